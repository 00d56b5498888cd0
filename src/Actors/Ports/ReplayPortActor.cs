using System.Globalization;
using System.Text;
using Actors.PacketPath;
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

/// <summary>
/// Replays more frames on a port that stays attached to its PMDs (a session of runs, as a two-process
/// replay makes: starting a port per run costs a port change on every PMD). Answered with the
/// <see cref="ReplayFinished"/> of these frames alone once the last is done; the port then waits for
/// the next. The datapath clock carries on from the runs before and never goes back.
/// </summary>
public sealed record ReplayMore(IReadOnlyList<ReplayFrame> Frames) : INoSerializationVerificationNeeded;

/// <summary>The replay ended: every verdict line, in frame order, and the ports' counters.</summary>
/// <param name="Statistics">Ports 1 and 2: frames sent into the datapath (rx), frames that could not enter because the receive pool was empty (rx dropped: pool empty), frames the datapath sent out (tx).</param>
/// <param name="Transmitted">Every frame that left port 1 or 2, in order, with its port (what `replay --tx-pcap-dir` writes).</param>
public sealed record ReplayFinished(IReadOnlyList<string> Verdicts, PortActorStatistics Statistics, IReadOnlyList<(uint Port, byte[] Frame)>? Transmitted = null) : INoSerializationVerificationNeeded;

/// <summary>
/// The `replay` port (ports 1 and 2 at once): frames enter in capture order, each sent to the PMD
/// that serves its receive queue (RSS hash over the PMDs) and finished before the next (the PMD
/// says when it is quiet), with the datapath clock following the capture and never going back.
/// Whatever the PMD
/// transmits meanwhile is that frame's verdict: `N IN_PORT -> OUT_PORTS` or `-> drop`.
/// A finite source: <see cref="DrainAndReport"/> waits for the last frame.
/// </summary>
public sealed class ReplayPortActor : PortActor
{
    /// <summary>The port type's name (ovs-ofctl show).</summary>
    public const string TypeName = "replay";

    private static readonly uint[] PortNumbers = [1, 2];

    private readonly ConcurrentPacketPool _receivePool;
    private readonly List<uint> _sentTo = [];
    private readonly ExtractionStats _extraction = new();
    private IReadOnlyList<ReplayFrame> _frames;
    private List<string> _verdicts = [];
    private List<(uint Port, byte[] Frame)> _transmitted = [];

    // Runs of ReplayMore: the port stops after each instead of ending.
    private bool _session;
    private IActorRef _requester = ActorRefs.Nobody;
    private int _next;
    private long _clockMs;
    private FlowKey _key;

    public ReplayPortActor(IReadOnlyList<ReplayFrame> frames, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools)
        : base(PortNumbers, pmds, batches, pools, finite: true)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _frames = frames;
        _receivePool = pools.Receive[0];
        Receive<StartReplay>(_ => HandleStartReplay());
        Receive<ReplayMore>(HandleReplayMore);
        Receive<ContinueReplay>(_ => SendNext());
    }

    /// <summary>Starts the actor and makes the links of ports 1 and 2 (each with its transmit pool) for <c>DatapathNode.UsePortsAsync</c>.</summary>
    /// <param name="receivePoolSize">Packets both ports receive into (frames in the datapath, fragments waiting for their datagram).</param>
    public static PortHandle Start(IActorRefFactory factory, IReadOnlyList<ReplayFrame> frames, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, int receivePoolSize = 4096, int transmitPoolSize = 1024, string? name = null)
    {
        var pools = new PortPools(PortPools.Pools(1, receivePoolSize), PortPools.Pools(PortNumbers.Length, transmitPoolSize));
        var props = Akka.Actor.Props.Create(() => new ReplayPortActor(frames, pmds, batches, pools));
        return StartActor(factory, props, name, PortNumbers, pools, TypeName);
    }

    private protected override TransmitOutcome Send(int portIndex, Packet packet)
    {
        _sentTo.Add(PortAt(portIndex));
        _transmitted.Add((PortAt(portIndex), packet.Data.ToArray()));
        return TransmitOutcome.Sent;
    }

    private protected override void OnQuiesced(Quiesced message)
    {
        if (_next >= _frames.Count || message.Token != _frames[_next].Number)
        {
            return;
        }

        var frame = _frames[_next];
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

    private void HandleStartReplay()
    {
        _requester = Sender;
        if (Lifecycle.Phase == TrafficPhase.Ended)
        {
            _requester.Tell(new ReplayFinished(_verdicts, Statistics(), _transmitted));
            return;
        }

        StartTraffic();
        SendNext();
    }

    private void HandleReplayMore(ReplayMore message)
    {
        if (Lifecycle.Phase != TrafficPhase.Stopped || _next < _frames.Count)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("replay: a run is still under way, or the port has ended")));
            return;
        }

        _session = true;
        _requester = Sender;
        _frames = message.Frames;
        _next = 0;
        _verdicts = [];
        _transmitted = [];
        StartTraffic();
        SendNext();
    }

    private void SendNext()
    {
        if (!Lifecycle.Running)
        {
            return;
        }

        // Frames of neither port's host are reported, not replayed.
        while (_next < _frames.Count && _frames[_next].Port == 0)
        {
            _verdicts.Add(string.Create(CultureInfo.InvariantCulture, $"{_frames[_next].Number} - -> skipped"));
            _next++;
        }

        if (_next == _frames.Count)
        {
            if (_session)
            {
                StopTraffic();
            }
            else
            {
                EndTraffic();
            }

            _requester.Tell(new ReplayFinished(_verdicts, Statistics(), _transmitted));
            return;
        }

        var frame = _frames[_next];
        int portIndex = IndexOf(frame.Port);
        _sentTo.Clear();

        // The capture's clock, never going back (as VerdictReplay keeps it for the inline datapath).
        _clockMs = Math.Max(_clockMs, frame.TimeMs);
        if (portIndex < 0 || !_receivePool.TryRent(out var packet))
        {
            // Every receive packet is held by the datapath (fragments waiting for datagrams that
            // never complete), or the frame names a port that is not 1 or 2: it cannot enter,
            // which is a drop at the receive side.
            if (portIndex >= 0)
            {
                CountersAt(portIndex).DroppedPoolEmpty();
            }

            _verdicts.Add(string.Create(CultureInfo.InvariantCulture, $"{frame.Number} {frame.Port} -> drop"));
            _next++;
            Self.Tell(ContinueReplay.Instance);
            return;
        }

        packet.SetFrame(frame.Bytes, frame.Port);
        CountersAt(portIndex).Received(packet.Length);
        var pmd = Pmds[PmdOf(packet)];
        var batch = PathBatch.Rent(Batches);
        batch.Add(packet);

        // No sender: the replay paces itself by quiescing, not by the PMD's window.
        pmd.Tell(batch.Received(_clockMs), ActorRefs.NoSender);
        pmd.Tell(new Quiesce(frame.Number));
    }

    /// <summary>The receive queue's PMD: an RSS hash spreads queues over PMDs, as a NIC spreads flows over queues.</summary>
    private int PmdOf(Packet packet)
    {
        if (Pmds.Count == 1)
        {
            return 0;
        }

        FlowExtractor.Extract(packet, ref _key, _extraction);
        return (int)(ConnectionHash.PlacementHash(in _key) % (uint)Pmds.Count);
    }

    private sealed class ContinueReplay : INoSerializationVerificationNeeded
    {
        public static ContinueReplay Instance { get; } = new();
    }
}
