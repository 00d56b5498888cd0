using Datapath.Conntrack;

namespace Datapath.Pipeline;

/// <summary>
/// A conntrack stage that answers in place, from inside <see cref="Submit"/>, from one
/// <see cref="ConnectionTable"/> (one thread, no actors). Bypass flows are watched in the same
/// table; its notices reach the core before each answer, so a connection that just left the
/// established state loses its bypass flows before the packets behind it are looked up.
/// </summary>
public sealed class TableConntrackStage : IConntrackStage
{
    // The single PMD's holder bit.
    private const ulong Holder = 1;

    private readonly ConnectionTable _table;
    private readonly IConntrackAnswers _answers;
    private readonly ConntrackResult[] _results = new ConntrackResult[Packets.PacketBatch.MaxSize];
    private readonly List<BypassNotice> _notices = [];
    private long _nowMs;

    public TableConntrackStage(ConnectionTable table, IConntrackAnswers answers)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(answers);
        _table = table;
        _answers = answers;
    }

    public ConnectionTable Table => _table;

    public void Submit(ConntrackRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var results = _results.AsSpan(0, request.Count);
        var args = request.Args;
        _nowMs = request.NowMs;
        _table.Execute(request.Inputs, in args, request.NowMs, results);
        DeliverNotices();

        // The answer runs the continuation, which may submit again (ct after ct): copy out first.
        Span<ConntrackResult> copy = stackalloc ConntrackResult[results.Length];
        results.CopyTo(copy);
        _answers.Complete(request.Id, copy);
    }

    public void Watch(in ConntrackKey connection, uint connectionHash)
    {
        if (!_table.WatchBypassFlow(in connection, connectionHash, Holder, _nowMs))
        {
            _answers.RevokeBypassFlows(in connection, connectionHash);
        }
    }

    /// <summary>Passes the table's notices (packets, expiry, flush) to the core; call after touching the table from outside.</summary>
    public void DeliverNotices()
    {
        if (_table.PendingBypassNotices == 0)
        {
            return;
        }

        _notices.Clear();
        _table.DrainBypassNotices(_notices);
        foreach (var notice in _notices)
        {
            var key = notice.Key;
            _answers.RevokeBypassFlows(in key, notice.ShardHash);
        }
    }
}
