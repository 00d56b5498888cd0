using Actors.Conntrack;
using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;

namespace Bench.CtBench;

/// <summary>
/// A PMD-like load generator for ct-bench: sends batches of 32 conntrack inputs, split by shard
/// with a <see cref="ConntrackBatcher"/>, keeping <c>window</c> batches outstanding, until it has
/// had every packet answered; then completes <c>done</c> with the number of messages it sent.
/// </summary>
internal sealed class CtBenchSender : ReceiveActor
{
    private const int BatchSize = 32;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    private readonly ConntrackInput[] _traffic;
    private readonly ConntrackRoutes _routes;
    private readonly ConntrackBatcher[] _slots;
    private readonly long _packets;
    private readonly TaskCompletionSource<long> _done;
    private readonly List<TrackConnections> _messages = new(BatchSize);
    private readonly ConntrackInput[] _batch = new ConntrackInput[BatchSize];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _sent;
    private long _answered;
    private long _messageCount;
    private int _cursor;

    public CtBenchSender(ConntrackInput[] traffic, ConntrackRoutes routes, int window, long packets, TaskCompletionSource<long> done)
    {
        _traffic = traffic;
        _routes = routes;
        _packets = packets;
        _done = done;
        _slots = new ConntrackBatcher[window];
        for (int i = 0; i < window; i++)
        {
            _slots[i] = new ConntrackBatcher(routes.ShardCount);
        }

        Receive<Start>(_ => HandleStart());
        Receive<ConnectionsTracked>(HandleTracked);
        Receive<Terminated>(t => _routes.Forget(t.ActorRef));
    }

    public static Props Props(ConntrackInput[] traffic, ConntrackRoutes routes, int window, long packets, TaskCompletionSource<long> done) =>
        Akka.Actor.Props.Create(() => new CtBenchSender(traffic, routes, window, packets, done));

    /// <summary>A failing sender ends the run instead of restarting with its outstanding batches lost.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _done.TrySetException(reason);
        base.PreRestart(reason, message);
    }

    private void HandleStart()
    {
        for (int slot = 0; slot < _slots.Length && _sent < _packets; slot++)
        {
            SendBatch(_slots[slot], slot);
        }
    }

    private void HandleTracked(ConnectionsTracked reply)
    {
        if (_routes.Learn(reply.Shard, Sender))
        {
            Context.Watch(Sender);
        }

        var slot = _slots[reply.BatchId % _slots.Length];
        if (!slot.Merge(reply))
        {
            return;
        }

        _answered += slot.Results.Length;
        if (_answered >= _packets)
        {
            _done.TrySetResult(_messageCount);
        }
        else if (_sent < _packets)
        {
            // The slot's next batch id keeps id % window == slot.
            SendBatch(slot, slot.BatchId + _slots.Length);
        }
    }

    private void SendBatch(ConntrackBatcher slot, long batchId)
    {
        int count = (int)Math.Min(BatchSize, _packets - _sent);
        for (int i = 0; i < count; i++)
        {
            _batch[i] = _traffic[_cursor];
            _cursor = _cursor + 1 == _traffic.Length ? 0 : _cursor + 1;
        }

        _messages.Clear();
        _messageCount += slot.Split(_batch.AsSpan(0, count), in Commit, _clock.ElapsedMilliseconds, batchId, _messages);
        foreach (var message in _messages)
        {
            _routes.Send(message, Self);
        }

        _sent += count;
    }

    /// <summary>Starts sending; local only.</summary>
    internal sealed class Start : INoSerializationVerificationNeeded
    {
        public static readonly Start Instance = new();
    }
}
