using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;

namespace Actors.Tests.Ports;

/// <summary>Where every packet a port received went: the same sums for every port type.</summary>
internal static class PacketAccounting
{
    /// <summary>The counters of every PMD of the node.</summary>
    public static async Task<IReadOnlyList<PmdStatistics>> PmdStatisticsAsync(DatapathNode node, TimeSpan timeout)
    {
        var stats = new List<PmdStatistics>();
        foreach (var pmd in node.Pmds)
        {
            stats.Add(await pmd.Ask<PmdStatistics>(GetPmdStatistics.Instance, timeout));
        }

        return stats;
    }

    /// <summary>
    /// Every frame the ports handed to the PMDs (rx) left the datapath exactly once: transmitted on
    /// a port (tx; the firewall never sends a frame to two ports when there are only two), not sent
    /// by a port (tx dropped), or dropped by a flow (<paramref name="droppedByFlows"/>, what the
    /// reference verdicts say), which the PMDs count as "drop action" (Open vSwitch's
    /// drop_action_of_pipeline). No PMD counted a drop for any other reason (upcall failed,
    /// conntrack answer lost, pool empty...), and the node's ledger balances: received = sent +
    /// dropped by reason + held, with nothing held. A port that read a frame it had no room for
    /// counts it as a receive drop: only tests that starve a port's pools on purpose
    /// (<paramref name="receiveDropsAllowed"/>) accept any.
    /// </summary>
    public static void AssertEveryPacketAccountedFor(IEnumerable<PortStatistics> ports, IEnumerable<PmdStatistics> pmds, long droppedByFlows, bool receiveDropsAllowed = false)
    {
        var portList = ports.ToList();
        var pmdList = pmds.ToList();
        long received = portList.Sum(p => p.RxPackets);
        long transmitted = portList.Sum(p => p.TxPackets);
        long notSent = portList.Sum(p => p.TxDropped);
        long receiveDrops = portList.Sum(p => p.RxDropped);
        Assert.True(receiveDropsAllowed || receiveDrops == 0, $"{receiveDrops} frames dropped at the receive side");
        var otherDrops = pmdList.SelectMany(p => p.Drops).Where(d => d.Key != "drop action" && d.Value > 0).ToList();
        Assert.True(received > 0, "nothing was received");
        Assert.True(otherDrops.Count == 0, "PMD drops: " + string.Join(", ", otherDrops.Select(d => $"{d.Key} {d.Value}")));
        Assert.True(
            received == transmitted + notSent + droppedByFlows,
            $"received {received} != transmitted {transmitted} + not sent {notSent} + dropped by flows {droppedByFlows}");
        Assert.Equal(droppedByFlows, pmdList.Sum(p => p.Drops.GetValueOrDefault("drop action")));
        var ledger = PacketLedger.From(pmdList, portList);
        Assert.True(ledger.Balances && ledger.Held == 0, "ledger: " + ledger);
        Assert.Equal(received + receiveDrops, ledger.Received);
        Assert.Equal(droppedByFlows + notSent + receiveDrops, ledger.Dropped);
    }

    /// <summary>Every packet of the port's pools is back in its pool.</summary>
    public static void AssertPoolsFull(PortHandle port)
    {
        Assert.True(port.Pools.OutOfPool == 0, $"{port.Pools.OutOfPool} packets are not back in their pools");
        Assert.All(port.Pools.Receive.Concat(port.Pools.Transmit), p => Assert.Equal(p.Size, p.Available));
    }
}
