using Akka.Actor;
using Datapath.Packets;

namespace Actors.PacketPath;

// The messages that move packets between ports and PMDs, below both: ports send batches to PMDs and
// PMDs send batches to ports, and neither depends on the other's code. All are local
// (INoSerializationVerificationNeeded): they carry packets and pools, and stay on their node.

/// <summary>
/// Frames received on a queue a PMD serves. Local only: an ownership transfer of the batch and
/// its packets, which belong to the port's pool; never crosses a node.
/// </summary>
/// <param name="NowMs">The datapath clock (the capture's, in a replay).</param>
/// <param name="AckTo">Told <see cref="BatchTaken"/> once the PMD has taken the batch (the port's window).</param>
/// <param name="Queue">The receive queue of the port the frames came from (pmd-rxq-show's per-queue load).</param>
public sealed record ProcessBatch(PacketBatch Batch, long NowMs, IActorRef? AckTo, int Queue = 0) : INoSerializationVerificationNeeded;

/// <summary>The PMD took a batch off its mailbox: the port may send another.</summary>
public sealed record BatchTaken(int Pmd) : INoSerializationVerificationNeeded;

/// <summary>
/// Frames for a port to send, from one PMD, in order. Local only: an ownership transfer of the
/// batch and its packets (the sender never touches them again); never crosses a node. A packet
/// belongs to the pool it came from (the port's transmit pool, or a receive pool when a PMD's last
/// output handed the received packet itself over), and the port returns it there.
/// </summary>
public sealed record TransmitBatch(uint Port, PacketBatch Batch) : INoSerializationVerificationNeeded;

/// <summary>Asks a PMD to be told when nothing it received is still in flight (conntrack answers, recirculation).</summary>
public sealed record Quiesce(long Token) : INoSerializationVerificationNeeded;

/// <summary>Everything the PMD received before the matching <see cref="Quiesce"/> has been processed to the end, and its transmissions sent.</summary>
public sealed record Quiesced(int Pmd, long Token) : INoSerializationVerificationNeeded;
