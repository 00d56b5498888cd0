using Akka.Actor;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>
/// How a PMD reaches a port's transmit side: the port actor, and the pool the PMD copies
/// transmitted frames into (the port returns them after sending).
/// </summary>
public sealed record PortLink(uint Port, IActorRef Actor, IPacketPool TransmitPool) : INoSerializationVerificationNeeded;

/// <summary>
/// Frames for a port to send, from one PMD, in order. Local only: an ownership transfer of the
/// batch and its packets (the sender never touches them again); never crosses a node.
/// </summary>
public sealed record TransmitBatch(uint Port, PacketBatch Batch) : INoSerializationVerificationNeeded;
