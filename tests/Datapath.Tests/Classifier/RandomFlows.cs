using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Tests.Classifier;

/// <summary>
/// Random keys and megaflows for property tests. Field values come from small pools so that
/// rules and keys often agree (hits) and often do not (misses); masks come from a pool of the
/// shapes the firewall's translation produces, plus random bit masks.
/// </summary>
internal sealed class RandomFlows(Random random)
{
    private static readonly uint[] Ports = [1, 2, 3, 4, 5, 6];
    private static readonly uint[] RecircIds = [0, 1, 2, 3, 4, 5];
    private static readonly CtState[] CtStates =
    [
        CtState.None,
        CtState.New | CtState.Tracked,
        CtState.Established | CtState.Tracked,
        CtState.Established | CtState.Reply | CtState.Tracked,
        CtState.Invalid | CtState.Tracked,
    ];

    private static readonly ushort[] EthTypes = [EtherTypes.Ipv4, EtherTypes.Ipv4, EtherTypes.Arp, EtherTypes.Ipv6];
    private static readonly byte[] Protocols = [IpProtocols.Tcp, IpProtocols.Udp, IpProtocols.Icmp];
    private static readonly uint[] Addresses = [0x0A00_0001, 0x0A00_0002, 0xC0A8_0101];
    private static readonly ushort[] TpPorts = [22, 80, 443, 5000];

    private static readonly FlowKey[] MaskPool = BuildMaskPool();

    public FlowKey NextKey()
    {
        var k = default(FlowKey);
        k.InPort = Pick(Ports);
        k.RecircId = Pick(RecircIds);
        k.CtState = Pick(CtStates);
        k.EthSrc = 0x0000_0000_0001UL + (ulong)random.Next(3);
        k.EthDst = 0x0000_0000_0001UL + (ulong)random.Next(3);
        k.EthType = Pick(EthTypes);
        k.NwProto = Pick(Protocols);
        k.NwTtl = 64;
        k.NwSrc = Pick(Addresses);
        k.NwDst = Pick(Addresses);
        k.TpSrc = Pick(TpPorts);
        k.TpDst = Pick(TpPorts);
        return k;
    }

    public FlowKey NextMask()
    {
        // One draw in five is a random bit mask over a few words. Like every megaflow mask the
        // datapath installs (and all but one of the pool), it matches recirc_id exactly.
        if (random.Next(5) == 0)
        {
            var m = default(FlowKey);
            m.RecircId = uint.MaxValue;
            int words = 1 + random.Next(3);
            for (int i = 0; i < words; i++)
            {
                int w = random.Next(FlowKey.WordCount);
                m[w] |= (ulong)random.NextInt64() & (ulong)random.NextInt64();
            }

            return m;
        }

        return MaskPool[random.Next(MaskPool.Length)];
    }

    public Megaflow NextFlow()
    {
        FlowKey key = NextKey();
        FlowKey mask = NextMask();
        return new Megaflow(in key, in mask, ActionList.Empty);
    }

    private T Pick<T>(T[] pool) => pool[random.Next(pool.Length)];

    private static FlowKey[] BuildMaskPool()
    {
        var inPort = default(FlowKey);
        inPort.InPort = uint.MaxValue;

        FlowKey inPortRecirc = inPort;
        inPortRecirc.RecircId = uint.MaxValue;

        FlowKey inPortEthType = inPortRecirc;
        inPortEthType.EthType = ushort.MaxValue;

        FlowKey fiveTuple = inPortEthType;
        fiveTuple.NwProto = byte.MaxValue;
        fiveTuple.NwSrc = uint.MaxValue;
        fiveTuple.NwDst = uint.MaxValue;
        fiveTuple.TpSrc = ushort.MaxValue;
        fiveTuple.TpDst = ushort.MaxValue;

        FlowKey ct = inPortEthType;
        ct.CtState = (CtState)0xFF;

        FlowKey ctEstOnly = inPortEthType;
        ctEstOnly.CtState = CtState.Established | CtState.Tracked;

        FlowKey l2 = inPortRecirc;
        l2.EthDst = 0xFFFF_FFFF_FFFFUL;
        l2.EthSrc = 0xFFFF_FFFF_FFFFUL;

        FlowKey dstPrefix = inPortEthType;
        dstPrefix.NwDst = 0xFFFF_FF00;

        return [inPort, inPortRecirc, inPortEthType, fiveTuple, fiveTuple, ct, ct, ctEstOnly, l2, dstPrefix];
    }
}
