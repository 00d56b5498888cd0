using Datapath.Actions;
using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Pipeline;

namespace Datapath.Tests.Bypass;

/// <summary>
/// The two passes of the firewall's established UDP packets from port 1, without a pipeline: a first
/// pass through <see cref="Original"/> (ct, recirc(7)) and a recirculated pass, +est+trk, through
/// <see cref="Recirculated"/> (output:2). What a bypass mode needs to be driven through its seam.
/// </summary>
internal sealed class TwoPasses
{
    public const uint RecircId = 7;

    private readonly ExtractionStats _extraction = new();

    public TwoPasses()
    {
        var firstMask = default(FlowKey);
        firstMask.InPort = uint.MaxValue;
        firstMask.RecircId = uint.MaxValue;
        firstMask.EthType = 0xFFFF;
        var firstKey = default(FlowKey);
        firstKey.InPort = 1;
        firstKey.EthType = 0x0800;
        Original = new Megaflow(in firstKey, in firstMask, new ActionList([DatapathAction.Conntrack(new ConntrackArgs()), DatapathAction.Recirculate(RecircId)]));

        var recirculatedMask = firstMask;
        recirculatedMask.CtState = CtState.Established | CtState.Tracked | CtState.New | CtState.Invalid;
        var recirculatedKey = firstKey;
        recirculatedKey.RecircId = RecircId;
        recirculatedKey.CtState = CtState.Established | CtState.Tracked;
        Recirculated = new Megaflow(in recirculatedKey, in recirculatedMask, new ActionList([DatapathAction.Output(2)]));
    }

    public Megaflow Original { get; }

    public Megaflow Recirculated { get; }

    /// <summary>A packet of the UDP connection from h1's <paramref name="h1Port"/> as received on port 1, with its first-pass key and hash.</summary>
    public (Packet Packet, FlowKey Key, uint Hash) Receive(ushort h1Port)
    {
        var packet = new Packet();
        packet.SetFrame(BypassFrames.Udp(1, h1Port, 53).Frame, 1);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, _extraction);
        return (packet, key, FlowHash.Hash(in key));
    }

    /// <summary>The packet back from conntrack with <paramref name="state"/> and recirculated: its second-pass key.</summary>
    public FlowKey Recirculate(Packet packet, CtState state = CtState.Established | CtState.Tracked)
    {
        packet.Metadata.RecircId = RecircId;
        packet.Metadata.RecircDepth = 1;
        packet.Metadata.CtState = state;
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, _extraction);
        return key;
    }

    /// <summary>Both passes of one packet through <paramref name="bypass"/>'s classification hook.</summary>
    public void Run(Datapath.Bypass.IRecirculationBypass bypass, ushort h1Port, CtState state = CtState.Established | CtState.Tracked)
    {
        var (packet, key, _) = Receive(h1Port);
        bypass.OnClassified([packet], [Original], [key]);
        var second = Recirculate(packet, state);
        bypass.OnClassified([packet], [Recirculated], [second]);
    }

    /// <summary>The connection a packet of <paramref name="h1Port"/> belongs to, as conntrack keys it.</summary>
    public ConntrackKey Connection(ushort h1Port, out uint hash)
    {
        var (packet, _, _) = Receive(h1Port);
        Assert.True(ConntrackInput.TryParse(packet, 0, out var input));
        hash = input.ShardHash;
        return input.Key;
    }
}

/// <summary>A watcher that remembers what it was told.</summary>
internal sealed class RecordingWatcher : Datapath.Bypass.IBypassFlowWatcher
{
    public List<(ConntrackKey Connection, uint Hash)> Watched { get; } = [];

    public void Watch(in ConntrackKey connection, uint connectionHash) => Watched.Add((connection, connectionHash));
}
