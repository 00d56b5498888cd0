using System.Globalization;
using Actors.Pmd;
using Actors.Ports;

namespace Actors.Node;

/// <summary>
/// Where every packet the ports received went, for one node: <c>Received == Sent + Dropped + Held</c>.
/// Received is what reached a port (taken, or dropped at the receive side) and what a controller's
/// packet_out put in; Sent is what left a port or reached a controller, less the extra copies (a
/// flooded or twice-output packet is sent once); Dropped is every drop by its reason (receive side,
/// pipeline, transmit side, controller); Held is what the PMDs hold now (waiting for conntrack or for
/// the rest of a datagram, or for a revalidation). Exact once the ports are drained and no batch is
/// between a port and a PMD (Open vSwitch's own sum: rx = tx + drops, per its drop reasons).
/// </summary>
public sealed record PacketLedger(
    long Received,
    long Sent,
    long Held,
    long Injected,
    long Transmitted,
    long ToController,
    long ExtraCopies,
    IReadOnlyDictionary<string, long> Drops)
{
    public long Dropped => Drops.Values.Sum();

    /// <summary>Whether every packet received is sent, dropped for a named reason or held.</summary>
    public bool Balances => Received == Sent + Dropped + Held;

    public static PacketLedger From(IEnumerable<PmdStatistics> pmds, IEnumerable<PortStatistics> ports)
    {
        ArgumentNullException.ThrowIfNull(pmds);
        ArgumentNullException.ThrowIfNull(ports);
        var pmdList = pmds.ToList();
        var portList = ports.ToList();
        var drops = new SortedDictionary<string, long>(StringComparer.Ordinal);
        void Add(string reason, long count) => drops[reason] = drops.GetValueOrDefault(reason) + count;

        foreach (var port in portList)
        {
            Add("rx: overload", port.RxDroppedOverload);
            Add("rx: pool empty", port.RxDroppedPoolEmpty);
            Add("rx: too long", port.RxDroppedTooLong);
            Add("tx: too long", port.TxDroppedTooLong);
            Add("tx: errors", port.TxErrors);
        }

        foreach (var pmd in pmdList)
        {
            foreach (var (reason, count) in pmd.Drops)
            {
                Add(reason, count);
            }

            Add("tx: no such port", pmd.TransmitDropsNoPort);
            Add("tx: pool empty", pmd.TransmitDropsPoolEmpty);
            Add("controller: not delivered", pmd.ControllerDrops);
        }

        long transmitted = portList.Sum(p => p.TxPackets);
        long toController = pmdList.Sum(p => p.ToUserspace - p.ControllerDrops);
        long extra = pmdList.Sum(p => p.ExtraCopies);
        long injected = pmdList.Sum(p => p.PacketsInjected);
        return new PacketLedger(
            Received: portList.Sum(p => p.RxPackets + p.RxDropped) + injected,
            Sent: transmitted + toController - extra,
            Held: pmdList.Sum(p => p.PacketsHeld + p.PacketsWaiting),
            Injected: injected,
            Transmitted: transmitted,
            ToController: toController,
            ExtraCopies: extra,
            Drops: drops);
    }

    /// <summary>One line: "N received = S sent + D dropped + H held (T transmitted, E extra copies[, C to the controller])".</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        string controller = ToController > 0 ? string.Create(c, $", {ToController} to the controller") : string.Empty;
        controller += Injected > 0 ? string.Create(c, $", {Injected} from packet_outs") : string.Empty;
        return string.Create(c, $"{Received} received = {Sent} sent + {Dropped} dropped + {Held} held ({Transmitted} transmitted, {ExtraCopies} extra copies{controller})");
    }
}
