using Akka.Actor;

namespace Actors.PacketPath;

// The messages that move packets between ports and PMDs, below both: ports send batches to PMDs and
// PMDs send batches to ports (the batches themselves are the messages: PathBatch), and neither
// depends on the other's code. All are local (INoSerializationVerificationNeeded): they stay on
// their node.

/// <summary>The PMD took a batch off its mailbox: the port may send another.</summary>
public sealed record BatchTaken(int Pmd) : INoSerializationVerificationNeeded;

/// <summary>Asks a PMD to be told when nothing it received is still in flight (conntrack answers, recirculation).</summary>
public sealed record Quiesce(long Token) : INoSerializationVerificationNeeded;

/// <summary>Everything the PMD received before the matching <see cref="Quiesce"/> has been processed to the end, and its transmissions sent.</summary>
public sealed record Quiesced(int Pmd, long Token) : INoSerializationVerificationNeeded;
