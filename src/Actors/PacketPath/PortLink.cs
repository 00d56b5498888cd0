using Akka.Actor;
using Datapath.Packets;

namespace Actors.PacketPath;

/// <summary>
/// How a PMD reaches a port's transmit side: the port actor, and the pool the PMD copies
/// transmitted frames into (the port returns them after sending). A port split by PMD
/// (<see cref="PerPmd"/>) has one actor and pool per PMD, on that PMD's thread: each PMD transmits
/// to its own, so no frame crosses cores on its way out either.
/// </summary>
/// <param name="Name">The port's name as ovs-ofctl show lists it (null: "p" and its number).</param>
/// <param name="Type">The port type ("generator", "pcap", "system"...), for show; null when unknown.</param>
public sealed record PortLink(uint Port, IActorRef Actor, IPacketPool TransmitPool, string? Name = null, string? Type = null) : INoSerializationVerificationNeeded
{
    /// <summary>Where PMD i transmits, at index i (null: every PMD uses <see cref="Actor"/> and <see cref="TransmitPool"/>).</summary>
    public IReadOnlyList<PortLane>? PerPmd { get; init; }

    /// <summary>The actor and pool PMD <paramref name="pmd"/> transmits to.</summary>
    public PortLane LaneOf(int pmd) =>
        PerPmd is { } lanes && (uint)pmd < (uint)lanes.Count ? lanes[pmd] : new PortLane(Actor, TransmitPool);
}

/// <summary>One PMD's way out through a port split by PMD: its actor and its transmit pool.</summary>
public sealed record PortLane(IActorRef Actor, IPacketPool TransmitPool) : INoSerializationVerificationNeeded;
