using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// IP fragments on their way to conntrack wait here for their datagram, as Open vSwitch's ipf does
/// before ct: a whole datagram then goes to conntrack as one input standing for all its fragments.
/// Owns the PMD's <see cref="IpReassembler"/> and gives back what it refuses, expires or still holds
/// when the owner stops, each counted.
/// </summary>
internal sealed class ReassemblyStage(IpReassembler reassembler, PmdPackets packets, PmdCoreStats stats)
{
    private readonly ExtractionStats _extraction = new();
    private readonly List<Packet> _expired = [];
    private FlowKey _key;

    public IpReassembler Reassembler => reassembler;

    /// <summary>
    /// Offers <paramref name="packet"/> on its way to ct in <paramref name="zone"/>. True when it goes
    /// to conntrack now with <paramref name="input"/>: alone (<paramref name="datagram"/> null), or as
    /// the datagram it completed, whose fragments continue with the answer (<see cref="Release"/> it
    /// once they are taken). False when it waits for its datagram or was dropped (counted).
    /// </summary>
    public bool TryInput(Packet packet, ushort zone, long nowMs, out ConntrackInput input, out ReassembledDatagram? datagram)
    {
        // The pass that led here extracted the packet and recorded what conntrack reads (offsets,
        // ethertype, fragment bits); actions before a ct do not move or refragment headers.
        switch (reassembler.Offer(packet, packet.EthType, packet.NwFrag, zone, nowMs, out datagram))
        {
            case FragmentVerdict.Held:
                stats.FragmentsHeld++;
                input = default;
                return false;

            case FragmentVerdict.Dropped:
                DropRefused(packet);
                input = default;
                return false;

            case FragmentVerdict.Completed:
                stats.DatagramsReassembled++;
                var whole = datagram!.Datagram;
                FlowExtractor.Extract(whole, ref _key, _extraction);
                ConntrackInput.TryParse(whole, in _key, zone, out input);
                return true;

            default:
                datagram = null;
                ConntrackInput.TryParse(packet, zone, out input);
                return true;
        }
    }

    public void Release(ReassembledDatagram datagram) => reassembler.Release(datagram);

    /// <summary>Frees fragments whose datagram timed out.</summary>
    public void Expire(long nowMs)
    {
        _expired.Clear();
        stats.FragmentsDropped += reassembler.Expire(nowMs, _expired);
        foreach (var packet in _expired)
        {
            packets.Recycle(packet);
        }
    }

    /// <summary>Gives every held fragment back to its pool (the owner stops). Returns how many.</summary>
    public int ReleaseHeld()
    {
        _expired.Clear();
        reassembler.Clear(_expired);
        foreach (var fragment in _expired)
        {
            packets.Recycle(fragment);
        }

        int released = _expired.Count;
        _expired.Clear();
        return released;
    }

    private void DropRefused(Packet packet)
    {
        stats.FragmentsDropped += 1 + reassembler.DroppedWithDatagram.Count;
        packets.Recycle(packet);
        foreach (var fragment in reassembler.DroppedWithDatagram)
        {
            packets.Recycle(fragment);
        }

        reassembler.DroppedWithDatagram.Clear();
    }
}
