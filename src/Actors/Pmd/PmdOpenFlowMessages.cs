using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Wire;

namespace Actors.Pmd;

// The OpenFlow traffic of a PMD: packet_out frames it runs, packet_in it sends for the controllers,
// and what it does with table misses. Local messages (decoded OpenFlow values); the bridge relays them.

/// <summary>packet_out: the frame enters the pipeline on <paramref name="InPort"/> and runs <paramref name="Actions"/> (no answer).</summary>
public sealed record InjectPacket(byte[] Frame, uint InPort, IReadOnlyList<OfAction> Actions) : INoSerializationVerificationNeeded;

/// <summary>A packet for the controllers (a controller action, or a table miss), from a PMD through the bridge to each subscriber.</summary>
/// <param name="TableMiss">A table miss sent while some OpenFlow 1.0-1.2 controller asks for misses: only those get it.</param>
public sealed record PacketToController(PacketInMessage Message, ushort ControllerId, ushort MaxLength, bool TableMiss = false) : INoSerializationVerificationNeeded;

/// <summary>To a PMD: table misses go to the controllers (true) or are dropped (false).</summary>
public sealed record UseMissBehaviour(bool ToController) : INoSerializationVerificationNeeded;
