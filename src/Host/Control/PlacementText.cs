using System.Globalization;
using System.Text;
using Actors.Cluster;
using Host.Configuration;

namespace Host.Control;

/// <summary>`show`'s conntrack lines: which node owns which shard, and each node's hand-offs (<see cref="ConntrackPlacementView"/>).</summary>
internal static class PlacementText
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Format(ConntrackPlacementView view)
    {
        var sb = new StringBuilder();
        if (view.Nodes is [{ Handoffs: null, Self: true } alone] && alone.Shards.Count == view.Shards && view.Unplaced.Count == 0)
        {
            sb.Append(C, $" conntrack: {view.Shards} shards on this node (standalone)\n");
            return sb.ToString();
        }

        sb.Append(C, $" conntrack: {view.Shards} shards on {view.Nodes.Count} nodes\n");
        if (!view.OwnersAnswered)
        {
            sb.Append("  shard owners: no answer in time\n");
        }

        foreach (var node in view.Nodes)
        {
            sb.Append(C, $"  {node.Node}{(node.Self ? " (this node)" : string.Empty)}: {node.Shards.Count} shards{(node.Shards.Count > 0 ? ": " + NumberRanges.Format(node.Shards) : string.Empty)}\n");
            if (node.Handoffs is { } h)
            {
                sb.Append(C, $"     hand-offs in={h.HandoffsIn} ({h.ConnectionsIn} connections, {h.BytesIn} bytes, {h.TransferMsIn} ms), out={h.HandoffsOut} ({h.ConnectionsOut} connections)\n");
                sb.Append(C, $"     chunks rejected={h.ChunksRejected}, connections lost={h.ConnectionsLost}, tables parked={h.Parked}, messages resent={h.MessagesResent}\n");
            }
            else
            {
                sb.Append("     hand-offs: no answer in time\n");
            }

            AppendReplicas(sb, node.Replicas);
        }

        if (view.OwnersAnswered && view.Unplaced.Count > 0)
        {
            sb.Append(C, $"  moving or not started: {NumberRanges.Format(view.Unplaced)}\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The replicas a node keeps for other nodes' shards: which, how many connections, and how long ago
    /// the freshest and the stalest were last fed (an owner sends a delta each interval its table
    /// changes, so a quiet shard's replica ages without falling behind); then what replication did.
    /// </summary>
    private static void AppendReplicas(StringBuilder sb, Actors.Conntrack.Replica.ReplicaStatistics? replicas)
    {
        if (replicas is not { } r)
        {
            sb.Append("     replicas: no answer in time\n");
            return;
        }

        if (r.Replicas.Length == 0)
        {
            sb.Append("     replicas held=0\n");
        }
        else
        {
            var shards = r.Replicas.Select(x => x.Shard).Order().ToList();
            int incomplete = r.Replicas.Count(x => !x.Complete);
            sb.Append(C, $"     replicas held={r.Replicas.Length} (shards {NumberRanges.Format(shards)}), connections={r.Replicas.Sum(x => (long)x.Connections)}, seeding={incomplete}, last update {r.Replicas.Min(x => x.LagMs)}-{r.Replicas.Max(x => x.LagMs)} ms ago\n");
        }

        sb.Append(C, $"     replication chunks applied={r.ChunksApplied} ({r.BytesIn} bytes), dropped={r.ChunksDropped}, resyncs={r.ResyncsRequested}, promotions={r.Promotions} ({r.ConnectionsPromoted} connections), started empty={r.StartedEmpty} ({r.ConnectionsLost} connections lost)\n");
    }
}
