namespace Actors.OpenFlow;

/// <summary>
/// The byte side of one OpenFlow connection (a socket, in the host): whole messages out, and
/// closing. The connection actor never blocks on it: <see cref="Send"/> queues.
/// </summary>
public interface IOpenFlowTransport
{
    /// <summary>Queues one whole message; false when the connection is closed or its queue is full (the message is dropped).</summary>
    bool Send(byte[] message);

    /// <summary>Bytes queued and not yet written (asynchronous messages are dropped above a bound).</summary>
    long QueuedBytes { get; }

    /// <summary>Closes the connection (idempotent); the reader then reports <see cref="OpenFlowClosed"/>.</summary>
    void Close();
}

/// <summary>How the connection came to be, which decides its defaults (Open vSwitch's ofconn types).</summary>
public enum OpenFlowConnectionKind
{
    /// <summary>A client connected to us (br0.mgmt, ptcp): ovs-ofctl, or a controller using the service port; packet-ins once it sets miss_send_len.</summary>
    Service,

    /// <summary>We connected to a controller (tcp:...): packet-ins by default (miss_send_len 128).</summary>
    Primary,
}

/// <summary>One whole message read from the connection (framed by its header's length).</summary>
public sealed record OpenFlowReceived(byte[] Message) : Akka.Actor.INoSerializationVerificationNeeded;

/// <summary>The connection ended (peer closed, error, or <see cref="IOpenFlowTransport.Close"/>).</summary>
public sealed record OpenFlowClosed(string Reason) : Akka.Actor.INoSerializationVerificationNeeded;
