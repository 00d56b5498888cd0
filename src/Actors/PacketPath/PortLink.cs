using Akka.Actor;
using Datapath.Packets;

namespace Actors.PacketPath;

/// <summary>
/// How a PMD reaches a port's transmit side: the port actor, and the pool the PMD copies
/// transmitted frames into (the port returns them after sending).
/// </summary>
/// <param name="Name">The port's name as ovs-ofctl show lists it (null: "p" and its number).</param>
/// <param name="Type">The port type ("generator", "pcap", "system"...), for show; null when unknown.</param>
public sealed record PortLink(uint Port, IActorRef Actor, IPacketPool TransmitPool, string? Name = null, string? Type = null) : INoSerializationVerificationNeeded;
