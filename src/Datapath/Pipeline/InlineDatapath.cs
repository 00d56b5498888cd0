using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// The whole datapath on one thread, without actors: one <see cref="PmdPipeline"/> whose upcalls go
/// to the OpenFlow translation, whose ct actions run a <see cref="ConnectionTable"/> in place (IP
/// fragments reassembled first, as Open vSwitch's ipf does), and whose recirculations queue behind
/// the batch being processed (the pipeline's scratch belongs to one batch at a time). This is the
/// reference the actor datapath must agree with, and what `replay` runs.
/// </summary>
public sealed class InlineDatapath
{
    private readonly PmdPipeline _pipeline;
    private readonly ConnectionTable _conntrack;
    private readonly IpReassembler _reassembler;
    private readonly PacketPool _packets;
    private readonly PacketBatchPool _batches = new();
    private readonly Queue<PacketBatch> _recirculated = new();
    private readonly ExtractionStats _ctExtraction = new();
    private readonly List<Packet> _expired = [];
    private readonly int _maxDepth;
    private FlowKey _ctKey;
    private IPacketSink? _sink;
    private long _nowMs;

    public InlineDatapath(IUpcallHandler upcall, InlineDatapathOptions? options = null, ConnectionTable? conntrack = null, IpReassembler? reassembler = null)
    {
        ArgumentNullException.ThrowIfNull(upcall);
        options ??= new InlineDatapathOptions();
        var emc = options.EmcEntries == 0 ? null : new ExactMatchCache(options.EmcEntries, options.EmcInsertInvProb);
        _pipeline = new PmdPipeline(emc, new MegaflowClassifier(), upcall, _batches);
        _conntrack = conntrack ?? new ConnectionTable();
        _reassembler = reassembler ?? new IpReassembler();
        _packets = new PacketPool(options.PacketPoolSize);
        _maxDepth = options.MaxRecirculationDepth;
    }

    public PmdPipeline Pipeline => _pipeline;

    public ConnectionTable Conntrack => _conntrack;

    public IpReassembler Reassembler => _reassembler;

    public InlineDatapathStats Stats { get; } = new();

    /// <summary>A packet from the datapath's pool, holding <paramref name="frame"/> as received on <paramref name="inPort"/>.</summary>
    public bool TryReceive(ReadOnlySpan<byte> frame, uint inPort, out Packet packet)
    {
        if (!_packets.TryRent(out packet))
        {
            Stats.PoolExhausted++;
            return false;
        }

        packet.SetFrame(frame, inPort);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="batch"/> (packets from <see cref="TryReceive"/>) and every recirculation it
    /// causes to completion; transmitted packets go to <paramref name="sink"/>. The batch is left empty.
    /// </summary>
    public void Process(PacketBatch batch, long nowMs, IPacketSink sink)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _nowMs = nowMs;
        var context = new Context(this);
        _pipeline.Process(batch, nowMs, ref context);
        while (_recirculated.TryDequeue(out var next))
        {
            _pipeline.Process(next, nowMs, ref context);
            _batches.Return(next);
        }

        _expired.Clear();
        Stats.FragmentsDropped += _reassembler.Expire(nowMs, _expired);
        foreach (var packet in _expired)
        {
            _packets.Return(packet);
        }

        _sink = null;
    }

    /// <summary>
    /// ct(args) on a batch, then the rest of the actions from <paramref name="resumeAt"/>. Fragments
    /// wait in the reassembler; a completed datagram's fragments continue together, in arrival order,
    /// with the datagram's connection state.
    /// </summary>
    private void RunConntrack<TContext>(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt, ref TContext context)
        where TContext : IActionContext
    {
        var continuing = _batches.Rent();
        foreach (var packet in batch.Packets)
        {
            FlowExtractor.Extract(packet, ref _ctKey, _ctExtraction);
            switch (_reassembler.Offer(packet, in _ctKey, args.Zone, _nowMs, out var datagram))
            {
                case FragmentVerdict.Held:
                    Stats.FragmentsHeld++;
                    break;

                case FragmentVerdict.Dropped:
                    DropRefusedFragments(packet);
                    break;

                case FragmentVerdict.Completed:
                    Stats.DatagramsReassembled++;
                    var whole = datagram!.Datagram;
                    FlowExtractor.Extract(whole, ref _ctKey, _ctExtraction);
                    var state = Track(whole, in args);
                    foreach (var fragment in datagram.Fragments)
                    {
                        Continue(fragment, in state, ref continuing, actions, resumeAt, ref context);
                    }

                    _reassembler.Release(datagram);
                    break;

                default:
                    var result = Track(packet, in args);
                    Continue(packet, in result, ref continuing, actions, resumeAt, ref context);
                    break;
            }
        }

        batch.Clear();
        _batches.Return(batch);
        if (continuing.Count > 0)
        {
            ActionExecutor.Execute(continuing, actions, resumeAt, ref context, _pipeline.ExecutionStats);
        }
        else
        {
            _batches.Return(continuing);
        }
    }

    private ConntrackResult Track(Packet packet, in ConntrackArgs args)
    {
        ConntrackInput.TryParse(packet, in _ctKey, args.Zone, out var input);
        return _conntrack.Execute(in input, in args, _nowMs);
    }

    private void Continue<TContext>(Packet packet, in ConntrackResult result, ref PacketBatch continuing, ActionList actions, int resumeAt, ref TContext context)
        where TContext : IActionContext
    {
        if (result.Drop)
        {
            Stats.ConntrackLimitDrops++;
            _packets.Return(packet);
            return;
        }

        result.ApplyTo(ref packet.Metadata);
        if (continuing.IsFull)
        {
            ActionExecutor.Execute(continuing, actions, resumeAt, ref context, _pipeline.ExecutionStats);
            continuing = _batches.Rent();
        }

        continuing.Add(packet);
    }

    private void DropRefusedFragments(Packet packet)
    {
        Stats.FragmentsDropped += 1 + _reassembler.DroppedWithDatagram.Count;
        _packets.Return(packet);
        foreach (var fragment in _reassembler.DroppedWithDatagram)
        {
            _packets.Return(fragment);
        }

        _reassembler.DroppedWithDatagram.Clear();
    }

    private void Recirculate(PacketBatch batch)
    {
        int kept = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var packet = batch[i];
            if (packet.Metadata.RecircDepth > _maxDepth)
            {
                Stats.RecirculationDepthExceeded++;
                _packets.Return(packet);
                continue;
            }

            batch.Set(kept++, packet);
        }

        batch.Truncate(kept);
        _recirculated.Enqueue(batch);
    }

    private void Release(PacketBatch batch)
    {
        _packets.Return(batch);
        _batches.Return(batch);
    }

    /// <summary>The action context: a thin struct so the executor's calls are specialised.</summary>
    private readonly struct Context(InlineDatapath owner) : IActionContext
    {
        public void Output(uint port, Packet packet) => owner._sink!.Transmit(port, packet);

        public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt)
        {
            var self = this;
            owner.RunConntrack(batch, in args, actions, resumeAt, ref self);
        }

        public void Recirculate(PacketBatch batch) => owner.Recirculate(batch);

        public void Userspace(Packet packet, uint cookie)
        {
        }

        public void Release(PacketBatch batch) => owner.Release(batch);

        public void Drop(Packet packet) => owner._packets.Return(packet);
    }
}
