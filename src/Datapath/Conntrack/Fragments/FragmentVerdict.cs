namespace Datapath.Conntrack.Fragments;

/// <summary>What <see cref="IpReassembler.Offer"/> did with a packet.</summary>
public enum FragmentVerdict : byte
{
    /// <summary>Not an IP fragment: the caller goes on with the packet itself.</summary>
    NotFragment,

    /// <summary>Held until its datagram completes: the reassembler owns the packet now.</summary>
    Held,

    /// <summary>
    /// The packet completed its datagram: run conntrack on <see cref="ReassembledDatagram.Datagram"/>,
    /// then release <see cref="ReassembledDatagram.Fragments"/> (this packet among them) with its state.
    /// </summary>
    Completed,

    /// <summary>Refused (counted, with the fragments of its datagram when the whole datagram dies): the caller drops it.</summary>
    Dropped,
}
