using Datapath.Actions;
using Datapath.Flow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;

namespace Datapath.Tests.OpenFlow;

/// <summary>
/// The megaflow contract: any packet that matches the megaflow a translation produced translates
/// to exactly the same datapath actions.
/// </summary>
public class MegaflowPropertyTests
{
    private static readonly ushort[] EthTypes = [EtherTypes.Ipv4, EtherTypes.Ipv6, EtherTypes.Arp, 0x88cc];
    private static readonly byte[] Protos = [IpProtocols.Tcp, IpProtocols.Udp, IpProtocols.Icmp, IpProtocols.Icmpv6, IpProtocols.Sctp, 47];

    [Fact]
    public void Every_packet_matching_a_megaflow_translates_to_the_same_actions()
    {
        var random = new Random(42);
        int compared = 0;
        for (int set = 0; set < 300; set++)
        {
            var lines = new List<string>();
            int n = random.Next(1, 16);
            for (int i = 0; i < n; i++)
            {
                lines.Add(RandomFlows.Line(random, forTranslation: true));
            }

            var tables = new OpenFlowTables(new ManualClock());
            tables.AddFlows(string.Join('\n', lines), "random.flows");
            var x = new Translator(tables, new RecircRegistry(), [1, 2, 3]);
            for (int p = 0; p < 40; p++)
            {
                var first = RandomKey(random, 0);
                compared += Check(x, in first, random, lines);
                var result = x.Translate(in first);
                foreach (var a in result.Actions.Actions)
                {
                    if (a.Kind == ActionKind.Recirculate)
                    {
                        var resumed = RandomKey(random, a.RecircId);
                        compared += Check(x, in resumed, random, lines);
                    }
                }
            }
        }

        Assert.True(compared > 10000, $"only {compared} comparisons");
    }

    private static int Check(Translator x, in FlowKey first, Random random, List<string> lines)
    {
        var a = x.Translate(in first);
        Assert.Equal(uint.MaxValue, a.Mask.RecircId);
        Assert.Equal(uint.MaxValue, a.Mask.InPort);
        for (int i = 0; i < 4; i++)
        {
            var noise = RandomKey(random, first.RecircId);
            var second = default(FlowKey);
            for (int w = 0; w < FlowKey.WordCount; w++)
            {
                second.Words[w] = (first.Words[w] & a.Mask.Words[w]) | (noise.Words[w] & ~a.Mask.Words[w]);
            }

            var b = x.Translate(in second);
            if (!a.Actions.Actions.SequenceEqual(b.Actions.Actions) || a.Error != b.Error)
            {
                Assert.Fail($"rules:\n{string.Join('\n', lines)}\nfirst: {FlowFormatter.FormatExact(first)}\n  -> {Describe(a)}\nmask: {FlowFormatter.Format(first, a.Mask)}\nsecond: {FlowFormatter.FormatExact(second)}\n  -> {Describe(b)}");
            }
        }

        return 4;
    }

    private static string Describe(TranslationResult r) => string.Join(",", r.Actions.Actions.ToArray()) + (r.Error ?? string.Empty);

    /// <summary>Keys drawn from the small value sets the random rules use, so rules often match.</summary>
    private static FlowKey RandomKey(Random r, uint recirc)
    {
        var k = default(FlowKey);
        k.RecircId = recirc;
        k.InPort = (uint)r.Next(1, 4);
        k.CtState = (CtState)(r.Next(2) == 0 ? 0 : r.Next(64));
        k.CtZone = (ushort)r.Next(3);
        k.EthSrc = 0x02_00_00_00_00_00UL | (uint)r.Next(1, 4);
        k.EthDst = r.Next(4) == 0 ? 0xFFFF_FFFF_FFFFUL : 0x02_00_00_00_00_00UL | (uint)r.Next(1, 4);
        if (r.Next(3) == 0)
        {
            k.Vlan0Tpid = EtherTypes.Vlan8021Q;
            k.Vlan0Tci = (ushort)(FlowKey.VlanPresent | r.Next(4, 7));
        }

        k.EthType = EthTypes[r.Next(EthTypes.Length)];
        k.NwProto = Protos[r.Next(Protos.Length)];
        k.NwTtl = (byte)r.Next(0, 4);
        k.NwTos = (byte)(r.Next(3) * 4 + r.Next(2));
        k.NwFrag = (byte)(r.Next(4) == 0 ? FlowKey.FragAny : 0);
        k.NwSrc = 0x0A000000u | (uint)(r.Next(2) << 8) | (uint)r.Next(0, 4);
        k.NwDst = 0x0A000000u | (uint)r.Next(1, 4);
        k.Ipv6Src = new UInt128(0xfd00_0000_0000_0000, (ulong)r.Next(1, 4));
        k.TpSrc = (ushort)r.Next(0, 4);
        k.TpDst = (ushort)r.Next(0, 90);
        k.TcpFlags = (ushort)r.Next(0, 0x20);
        return k;
    }
}
