using Datapath.Conntrack;

namespace Datapath.Pipeline;

/// <summary>
/// A conntrack stage that answers in place from one <see cref="ConnectionTable"/> (one thread, no
/// actors). Combined flows are watched in the same table; its notices reach the core before each
/// answer, so a connection that just left the established state loses its shortcuts before the
/// packets behind it are looked up.
/// </summary>
public sealed class TableConntrackStage(ConnectionTable table) : IConntrackStage
{
    // The single PMD's holder bit.
    private const ulong Holder = 1;

    private readonly ConntrackResult[] _results = new ConntrackResult[Packets.PacketBatch.MaxSize];
    private readonly List<ShortcutNotice> _notices = [];
    private long _nowMs;

    public ConnectionTable Table => table;

    public void Submit(ConntrackRequest request, PmdCore core)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(core);
        var results = _results.AsSpan(0, request.Count);
        var args = request.Args;
        _nowMs = request.NowMs;
        table.Execute(request.Inputs, in args, request.NowMs, results);
        DeliverNotices(core);

        // The answer runs the continuation, which may submit again (ct after ct): copy out first.
        Span<ConntrackResult> copy = stackalloc ConntrackResult[results.Length];
        results.CopyTo(copy);
        core.CompleteConntrack(request.Id, copy);
    }

    public void WatchShortcut(in ConntrackKey connection, uint connectionHash, PmdCore core)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (!table.WatchShortcut(in connection, connectionHash, Holder, _nowMs))
        {
            core.RevokeShortcuts(in connection, connectionHash);
        }
    }

    /// <summary>Passes the table's notices (packets, expiry, flush) to <paramref name="core"/>; call after touching the table from outside.</summary>
    public void DeliverNotices(PmdCore core)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (table.PendingShortcutNotices == 0)
        {
            return;
        }

        _notices.Clear();
        table.DrainShortcutNotices(_notices);
        foreach (var notice in _notices)
        {
            var key = notice.Key;
            core.RevokeShortcuts(in key, notice.ShardHash);
        }
    }
}
