namespace Actors.Wire;

/// <summary>
/// Marks a message that may cross nodes. hocon/datapath.conf binds this interface to Hyperion
/// explicitly, so every such message has one known wire format; tests round-trip each one and run
/// actors with serialize-messages on. Wire messages are immutable and carry plain values only.
/// </summary>
public interface IWireMessage;
