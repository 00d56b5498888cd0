using Akka.Actor;
using Datapath.Conntrack;

namespace Actors.Conntrack.Handoff;

/// <summary>
/// A table on its way to a shard's new entity (a parked table, or a replica that becomes the shard):
/// <see cref="ShardStateChunk"/>s of at most <see cref="HandoffLimits.ChunkBytes"/>, at most
/// <see cref="HandoffLimits.Window"/> unacknowledged. A new claim starts the table over. Owned by the
/// keeper that holds the table; call it from that actor (chunks go with the keeper as sender).
/// </summary>
public sealed class TableStream(int shard, ConnectionTable table, long clockMs)
{
    private ConnectionTable.TableExport? _export;
    private int _sequence;
    private int _acked;

    public int Shard { get; } = shard;

    public ConnectionTable Table { get; } = table;

    /// <summary>The shard's clock the table's expiry times are on.</summary>
    public long ClockMs { get; } = clockMs;

    /// <summary>Who claimed the table last; null until someone does.</summary>
    public IActorRef? Claimant { get; private set; }

    public long TransferId { get; private set; }

    /// <summary>Starts (or starts over) sending the table to <paramref name="claimant"/>.</summary>
    public void Start(IActorRef claimant, long transferId)
    {
        Claimant = claimant;
        TransferId = transferId;
        _export = Table.BeginExport();
        _sequence = 0;
        _acked = 0;
        SendWindow();
    }

    /// <summary>
    /// The claimant took chunk <paramref name="sequence"/>, and so every one before it (it takes them in
    /// order): more may go. An acknowledgement of a chunk not sent, or one already covered, changes
    /// nothing, so a repeated or made-up one cannot open the window past its bound.
    /// </summary>
    public void Acknowledged(long transferId, int sequence)
    {
        if (_export is not null && transferId == TransferId && sequence >= _acked && sequence < _sequence)
        {
            _acked = sequence + 1;
            SendWindow();
        }
    }

    private void SendWindow()
    {
        var export = _export!;
        while (_sequence - _acked < HandoffLimits.Window && export.TryNextChunk(HandoffLimits.ChunkBytes, out var data, out _))
        {
            Claimant!.Tell(new ShardStateChunk(Shard, TransferId, _sequence++, export.Done, ClockMs, export.Connections, data));
        }
    }
}
