using System.Globalization;
using System.Text;
using Actors.Cluster;

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
            sb.Append(C, $"  {node.Node}{(node.Self ? " (this node)" : string.Empty)}: {node.Shards.Count} shards{(node.Shards.Count > 0 ? ": " + Ranges(node.Shards) : string.Empty)}\n");
            if (node.Handoffs is { } h)
            {
                sb.Append(C, $"     hand-offs in={h.HandoffsIn} ({h.ConnectionsIn} connections, {h.BytesIn} bytes, {h.TransferMsIn} ms), out={h.HandoffsOut} ({h.ConnectionsOut} connections)\n");
                sb.Append(C, $"     chunks rejected={h.ChunksRejected}, connections lost={h.ConnectionsLost}, tables parked={h.Parked}, messages resent={h.MessagesResent}\n");
            }
            else
            {
                sb.Append("     hand-offs: no answer in time\n");
            }
        }

        if (view.OwnersAnswered && view.Unplaced.Count > 0)
        {
            sb.Append(C, $"  moving or not started: {Ranges(view.Unplaced)}\n");
        }

        return sb.ToString();
    }

    /// <summary>0-3,5,7-8.</summary>
    internal static string Ranges(IReadOnlyList<int> sorted)
    {
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(j == i ? sorted[i].ToString(C) : string.Create(C, $"{sorted[i]}-{sorted[j]}"));
            i = j + 1;
        }

        return string.Join(',', parts);
    }
}
