using Actors.PacketPath;
using Akka.Actor;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>
/// The PMD's transmit side: each output packet is copied into the port's transmit pool (or, for
/// an action list's last output, handed over itself) and
/// batched per port (as dp_netdev's output batching); batches go to the port actor when full and
/// whenever the PMD finishes a message. A missing port or an empty pool is a counted drop. A port
/// split by PMD is reached through this PMD's own lane of it (<see cref="PortLink.LaneOf"/>).
/// </summary>
internal sealed class PmdTransmitter(int pmd, ConcurrentBatchPool batches, IActorRef self) : IPacketSink
{
    private readonly Dictionary<uint, Link> _ports = [];

    // The link found last: a batch's packets mostly go out on one port, and a dictionary probe per
    // packet was about 1 % of a one-core run.
    private Link? _last;

    public long Sent { get; private set; }

    public long DroppedNoPort { get; private set; }

    public long DroppedPoolEmpty { get; private set; }

    public long BatchesSent { get; private set; }

    /// <summary>Where the userspace (controller) action's packets go: the PMD's packet-in path; none drops them.</summary>
    public Action<Packet, uint>? ToController { get; set; }

    public void Userspace(Packet packet, uint cookie) => ToController?.Invoke(packet, cookie);

    public void UsePorts(IEnumerable<PortLink> ports)
    {
        Flush();
        _ports.Clear();
        _last = null;
        foreach (var port in ports)
        {
            _ports[port.Port] = new Link(port.Port, port.LaneOf(pmd));
        }
    }

    public void Transmit(uint port, Packet packet)
    {
        if (!TryFind(port, out var link))
        {
            DroppedNoPort++;
            return;
        }

        if (!link.Lane.TransmitPool.TryRent(out var copy))
        {
            DroppedPoolEmpty++;
            return;
        }

        copy.SetFrame(packet.Data, port);
        link.Pending ??= PathBatch.Rent(batches);
        link.Pending.Add(copy);
        Sent++;
        if (link.Pending.IsFull)
        {
            Send(link);
        }
    }

    /// <summary>Sends the packet itself (no copy) on a known port; the port returns it to its pool.</summary>
    public bool TryTake(uint port, Packet packet)
    {
        if (!TryFind(port, out var link))
        {
            return false;
        }

        link.Pending ??= PathBatch.Rent(batches);
        link.Pending.Add(packet);
        Sent++;
        if (link.Pending.IsFull)
        {
            Send(link);
        }

        return true;
    }

    /// <summary>Sends every partly filled batch.</summary>
    public void Flush()
    {
        foreach (var link in _ports.Values)
        {
            if (link.Pending is { Count: > 0 })
            {
                Send(link);
            }
        }
    }

    private bool TryFind(uint port, out Link link)
    {
        if (_last is { } last && last.Port == port)
        {
            link = last;
            return true;
        }

        if (_ports.TryGetValue(port, out link!))
        {
            _last = link;
            return true;
        }

        return false;
    }

    private void Send(Link link)
    {
        link.Lane.Actor.Tell(link.Pending!.ToSend(link.Port), self);
        link.Pending = null;
        BatchesSent++;
    }

    private sealed class Link(uint port, PortLane lane)
    {
        public uint Port { get; } = port;

        public PortLane Lane { get; } = lane;

        public PathBatch? Pending { get; set; }
    }
}
