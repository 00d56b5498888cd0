using Actors.PacketPath;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Datapath.Flow;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>One frame of a capture to replay, with the port it enters and the capture's clock.</summary>
public sealed record ReplayFrame(long Number, uint Port, byte[] Bytes, long TimeMs) : INoSerializationVerificationNeeded;

/// <summary>Starts the replay (sent by whoever waits for its end).</summary>
public sealed record StartReplay : INoSerializationVerificationNeeded
{
    public static StartReplay Instance { get; } = new();

    private StartReplay()
    {
    }
}

/// <summary>The replay ended: every verdict line, in frame order.</summary>
/// <param name="RxDroppedPoolEmpty">Frames that could not enter because the receive pool was empty (counted drops).</param>
public sealed record ReplayFinished(IReadOnlyList<string> Verdicts, long RxDroppedPoolEmpty) : INoSerializationVerificationNeeded;

/// <summary>
/// The `replay` port (ports 1 and 2 at once): frames enter in capture order, each sent to the PMD
/// that serves its receive queue (RSS hash over the PMDs) and finished before the next (the PMD
/// says when it is quiet), with the datapath clock following the capture. Whatever the PMD
/// transmits meanwhile is that frame's verdict: `N IN_PORT -> OUT_PORTS` or `-> drop`.
/// </summary>
public sealed class ReplayPortActor : ReceiveActor
{
    private readonly IReadOnlyList<ReplayFrame> _frames;
    private readonly IReadOnlyList<IActorRef> _pmds;
    private readonly ConcurrentPacketPool _receivePool;
    private readonly ConcurrentPacketPool _transmitPool;
    private readonly ConcurrentBatchPool _batches;
    private readonly List<string> _verdicts = [];
    private readonly List<uint> _sentTo = [];
    private readonly ExtractionStats _extraction = new();
    private IActorRef _requester = ActorRefs.Nobody;
    private long _rxDroppedPoolEmpty;
    private int _next;
    private FlowKey _key;

    public ReplayPortActor(IReadOnlyList<ReplayFrame> frames, IReadOnlyList<IActorRef> pmds, ConcurrentPacketPool transmitPool, ConcurrentBatchPool batches)
    {
        _frames = frames;
        _pmds = pmds;
        _transmitPool = transmitPool;
        _receivePool = new ConcurrentPacketPool(4096);
        _batches = batches;
        Receive<StartReplay>(_ =>
        {
            _requester = Sender;
            SendNext();
        });
        Receive<TransmitBatch>(HandleTransmit);
        Receive<ContinueReplay>(_ => SendNext());
        Receive<Quiesced>(HandleQuiesced);
    }

    public static Props Props(IReadOnlyList<ReplayFrame> frames, IReadOnlyList<IActorRef> pmds, ConcurrentPacketPool transmitPool, ConcurrentBatchPool batches) =>
        Akka.Actor.Props.Create(() => new ReplayPortActor(frames, pmds, transmitPool, batches));

    private void SendNext()
    {
        // Frames of neither port's host are reported, not replayed.
        while (_next < _frames.Count && _frames[_next].Port == 0)
        {
            _verdicts.Add(string.Create(CultureInfo.InvariantCulture, $"{_frames[_next].Number} - -> skipped"));
            _next++;
        }

        if (_next == _frames.Count)
        {
            _requester.Tell(new ReplayFinished(_verdicts, _rxDroppedPoolEmpty));
            return;
        }

        var frame = _frames[_next];
        _sentTo.Clear();
        if (!_receivePool.TryRent(out var packet))
        {
            // Every receive packet is held by the datapath (fragments waiting for datagrams that
            // never complete): the frame cannot enter, which is a drop at the receive side.
            _rxDroppedPoolEmpty++;
            _verdicts.Add(string.Create(CultureInfo.InvariantCulture, $"{frame.Number} {frame.Port} -> drop"));
            _next++;
            Self.Tell(ContinueReplay.Instance);
            return;
        }

        packet.SetFrame(frame.Bytes, frame.Port);
        var pmd = _pmds[PmdOf(packet)];
        var batch = _batches.Rent();
        batch.Add(packet);
        pmd.Tell(new ProcessBatch(batch, frame.TimeMs, null));
        pmd.Tell(new Quiesce(frame.Number));
    }

    /// <summary>The receive queue's PMD: an RSS hash spreads queues over PMDs, as a NIC spreads flows over queues.</summary>
    private int PmdOf(Packet packet)
    {
        if (_pmds.Count == 1)
        {
            return 0;
        }

        FlowExtractor.Extract(packet, ref _key, _extraction);
        return (int)(ConnectionHash.RssHash(in _key) % (uint)_pmds.Count);
    }

    private void HandleTransmit(TransmitBatch message)
    {
        foreach (var packet in message.Batch.Packets)
        {
            _sentTo.Add(message.Port);
            _transmitPool.Return(packet);
        }

        _batches.Return(message.Batch);
    }

    private void HandleQuiesced(Quiesced message)
    {
        var frame = _frames[_next];
        if (message.Token != frame.Number)
        {
            return;
        }

        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{frame.Number} {frame.Port} -> ");
        if (_sentTo.Count == 0)
        {
            line.Append("drop");
        }
        else
        {
            line.AppendJoin(',', _sentTo);
        }

        _verdicts.Add(line.ToString());
        _next++;
        SendNext();
    }

    private sealed class ContinueReplay : INoSerializationVerificationNeeded
    {
        public static ContinueReplay Instance { get; } = new();
    }
}
