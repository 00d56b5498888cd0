using Datapath.Packets;

namespace Datapath.Conntrack.Fragments;

/// <summary>
/// A completed datagram: the reassembled packet for conntrack and the original fragments in the
/// order they arrived. Owned by the <see cref="IpReassembler"/> until <see cref="IpReassembler.Release"/>;
/// the fragments then belong to the caller again.
/// </summary>
public sealed class ReassembledDatagram
{
    private readonly List<Packet> _fragments = new(8);

    internal ReassembledDatagram(Packet datagram)
    {
        Datagram = datagram;
    }

    /// <summary>The whole datagram: the first fragment's L2 and L3 headers and every payload, in offset order. L3Offset is set.</summary>
    public Packet Datagram { get; }

    /// <summary>The original fragments, in arrival order.</summary>
    public IReadOnlyList<Packet> Fragments => _fragments;

    internal List<Packet> FragmentList => _fragments;
}
