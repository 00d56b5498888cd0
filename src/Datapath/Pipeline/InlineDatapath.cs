using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Packets;
using Datapath.Upcalls;

namespace Datapath.Pipeline;

/// <summary>
/// The whole datapath on one thread, without actors: a <see cref="PmdCore"/> whose conntrack stage
/// answers in place from one <see cref="ConnectionTable"/>. It is the reference the actor datapath
/// must agree with, and what `replay` runs.
/// </summary>
public sealed class InlineDatapath
{
    private readonly PmdCore _core;
    private readonly ForwardingSink _sink = new();
    private readonly TableConntrackStage _stage;

    public InlineDatapath(IUpcallHandler upcall, PmdCoreOptions options, ConnectionTable conntrack, IpReassembler? reassembler = null)
    {
        ArgumentNullException.ThrowIfNull(conntrack);
        Conntrack = conntrack;
        TableConntrackStage? stage = null;
        _core = new PmdCore(upcall, answers => stage = new TableConntrackStage(conntrack, answers), _sink, options, reassembler);
        _stage = stage!;
    }

    public PmdCore Core => _core;

    public ConnectionTable Conntrack { get; }

    public PmdCoreStats Stats => _core.Stats;

    public IpReassembler Reassembler => _core.Reassembler;

    /// <inheritdoc cref="PmdCore.TryReceive"/>
    public bool TryReceive(ReadOnlySpan<byte> frame, uint inPort, out Packet packet) => _core.TryReceive(frame, inPort, out packet);

    /// <summary>
    /// Runs <paramref name="batch"/> and everything it causes (conntrack, recirculation) to the end;
    /// transmitted packets go to <paramref name="sink"/>. The batch is left empty.
    /// </summary>
    public void Process(PacketBatch batch, long nowMs, IPacketSink sink)
    {
        _sink.Target = sink;
        _core.Process(batch, nowMs);
        _core.ExpireFragments(nowMs);
        _sink.Target = null;
    }

    /// <summary>flush-conntrack: removes every connection (or one zone's); their bypass flows go with them.</summary>
    public int FlushConntrack(ushort? zone = null)
    {
        int flushed = Conntrack.Flush(zone);
        _stage.DeliverNotices();
        return flushed;
    }

    /// <summary>Expires what is due in the connection table, as the shards' sweep does; bypass flows of expired connections go.</summary>
    public int SweepConntrack(long nowMs)
    {
        int expired = Conntrack.Sweep(nowMs, int.MaxValue);
        _stage.DeliverNotices();
        return expired;
    }

    private sealed class ForwardingSink : IPacketSink
    {
        public IPacketSink? Target { get; set; }

        public void Transmit(uint port, Packet packet) => Target!.Transmit(port, packet);
    }
}
