using Actors.Cluster;
using Actors.Node;
using Actors.Ports;
using Actors.Tests.Support;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Tests.Support;
using Host.Configuration;
using TestSupport.Frames;

namespace Actors.Tests.Conntrack;

/// <summary>
/// Random NAT'd connection mixes (seeded) through 1 and 8 shards give the same frames: UDP and
/// TCP-SYN connections from inside hosts that share source ports towards a few servers, so
/// SNAT without a range must move ports (every claim on a taken tuple answered "taken", in place or
/// by message), with answers to the translated tuples and to tuples nobody holds, interleaved. The
/// frames are made against the inline datapath (one table), answering what it sent; the actors then
/// replay the same frames with 8 shards on 2 PMDs, hosted and not, and must give the same verdicts
/// and send the same bytes.
/// </summary>
public sealed class NatAcrossShardsPropertyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const string Flows = """
        table=0, priority=100, in_port=1, ip, actions=ct(table=1,zone=1,nat)
        table=0, priority=100, in_port=2, ip, actions=ct(table=2,zone=1,nat)
        table=1, priority=100, ct_state=+new+trk, ip, actions=ct(commit,zone=1,nat(src=192.0.2.100)),output:2
        table=1, priority=90, ct_state=+est+trk, actions=output:2
        table=2, priority=90, ct_state=+est+trk, actions=output:1
        table=2, priority=0, actions=drop
        """;

    public static TheoryData<int, int, bool> SeedsPmdsHosting() => new()
    {
        { 1, 2, true },
        { 2, 2, false },
        { 3, 1, true },
        { 4, 1, false },
    };

    [Theory]
    [MemberData(nameof(SeedsPmdsHosting))]
    public async Task A_random_mix_gives_the_same_verdicts_and_frames_through_8_shards_as_through_one_table(int seed, int pmds, bool hostOnPmds)
    {
        var mix = Mix.Make(seed, connections: 40);
        Assert.True(mix.Moved > 0, "no connection had to move its port: the mix tests no collision");
        Assert.Contains(mix.Verdicts, v => v.EndsWith(" 2 -> 1", StringComparison.Ordinal));
        Assert.Contains(mix.Verdicts, v => v.EndsWith(" 2 -> drop", StringComparison.Ordinal));

        var config = TestConfigs.Cluster($"""
            datapath.conntrack.shards = 8
            datapath.conntrack.host-on-pmds = {(hostOnPmds ? "on" : "off")}
            """);
        await using var cluster = await DatapathCluster.StartAsync(config, DatapathSettings.From(config, "test").Conntrack, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmds, NatAcrossShardsTests.Settings(), Defaults.BridgeSettings);
        await node.UseFlowsAsync(Tables().AllRules().Select(r => r.Entry).ToList(), Patience);
        var finished = await ActorReplay.FinishAsync(node, mix.Frames, Patience);
        await node.StopAsync();

        Assert.Equal(mix.Verdicts, finished.Verdicts);
        foreach (uint port in new uint[] { 1, 2 })
        {
            NatAcrossShardsTests.AssertFrames(mix.Sent.Where(s => s.Port == port).Select(s => s.Frame).ToList(), NatAcrossShardsTests.Sent(finished, port), $"seed {seed} port {port}");
        }
    }

    private static OpenFlowTables Tables()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(Flows, "mix.flows");
        return tables;
    }

    /// <summary>The frames of one mix, and what the inline datapath did with them.</summary>
    private sealed class Mix : IPacketSink
    {
        private readonly List<uint> _ports = [];
        private readonly List<(uint Port, byte[] Frame)> _out = [];

        public List<ReplayFrame> Frames { get; } = [];

        public List<string> Verdicts { get; } = [];

        public List<(uint Port, byte[] Frame)> Sent { get; } = [];

        /// <summary>Connections whose translated port is not their own.</summary>
        public int Moved { get; private set; }

        public static Mix Make(int seed, int connections)
        {
            var random = new Random(seed);
            var mix = new Mix();
            var datapath = new InlineDatapath(new Translator(Tables(), new RecircRegistry(), [1, 2]), Defaults.PmdCoreOptions, new Datapath.Conntrack.ConnectionTable(Defaults.ConntrackOptions with { NatSeed = 1 }));
            var open = new List<(string Inside, ushort Port, string Server, bool Tcp, ushort Translated)>();
            int made = 0;
            while (made < connections || open.Count > 0)
            {
                int choice = random.Next(10);
                if (made < connections && (choice < 4 || open.Count == 0))
                {
                    // A new connection: few inside hosts and ports, few servers, so tuples collide.
                    string inside = $"10.0.0.{1 + random.Next(6)}";
                    ushort port = (ushort)(5000 + random.Next(3));
                    string server = $"198.51.100.{1 + random.Next(3)}";
                    bool tcp = random.Next(4) == 0;
                    var request = Frame.Ipv4(inside, server);
                    var sent = mix.Send(datapath, 1, tcp ? request.Tcp(port, 80, TcpFlags.Syn, seq: 1000).Build() : request.Udp(port, 53).Payload(12).Build());
                    made++;
                    if (sent is { } leaving)
                    {
                        ushort translated = (ushort)((leaving[34] << 8) | leaving[35]);
                        mix.Moved += translated != port ? 1 : 0;
                        open.Add((inside, port, server, tcp, translated));
                    }
                }
                else if (choice < 8 && open.Count > 0)
                {
                    // An answer to the translated tuple, or the connection's next request.
                    int at = random.Next(open.Count);
                    var c = open[at];
                    if (random.Next(2) == 0)
                    {
                        var answer = Frame.Ethernet(Frame.Mac2, Frame.Mac1).Ipv4(c.Server, "192.0.2.100");
                        mix.Send(datapath, 2, c.Tcp ? answer.Tcp(80, c.Translated, TcpFlags.Syn | TcpFlags.Ack, seq: 5000, ack: 1001).Build() : answer.Udp(53, c.Translated).Payload(20).Build());
                    }
                    else if (!c.Tcp)
                    {
                        mix.Send(datapath, 1, Frame.Ipv4(c.Inside, c.Server).Udp(c.Port, 53).Payload(16).Build());
                    }

                    if (random.Next(3) == 0)
                    {
                        open.RemoveAt(at);
                    }
                }
                else
                {
                    // An answer to a translated port nobody holds: dropped.
                    mix.Send(datapath, 2, Frame.Ethernet(Frame.Mac2, Frame.Mac1).Ipv4("198.51.100.9", "192.0.2.100").Udp(53, (ushort)(6000 + random.Next(100))).Payload(8).Build());
                }
            }

            return mix;
        }

        public void Transmit(uint port, Packet packet)
        {
            _ports.Add(port);
            _out.Add((port, packet.Data.ToArray()));
        }

        /// <summary>Runs one frame inline at 1 ms after the last; returns what it sent on port 2 (a request's translation), if anything.</summary>
        private byte[]? Send(InlineDatapath datapath, uint port, byte[] frame)
        {
            long number = Frames.Count + 1;
            Frames.Add(new ReplayFrame(number, port, frame, number));
            _ports.Clear();
            _out.Clear();
            var batch = new PacketBatch();
            if (datapath.TryReceive(frame, port, out var packet))
            {
                batch.Add(packet);
                datapath.Process(batch, number, this);
            }

            Verdicts.Add($"{number} {port} -> {(_ports.Count == 0 ? "drop" : string.Join(',', _ports))}");
            Sent.AddRange(_out);
            return _out.FirstOrDefault(o => o.Port == 2).Frame;
        }
    }
}
