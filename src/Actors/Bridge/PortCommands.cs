using Actors.Ports;
using Akka.Actor;

namespace Actors.Bridge;

// Named ports, as ovs-vsctl add-port / del-port and ovs-ofctl show know them. The bridge creates
// the port actor of a created port itself (it knows the PMDs and the batch pool), so the control
// channel and the configuration ask for ports by name and type only.

/// <summary>
/// ovs-vsctl add-port: a port of <paramref name="Type"/> (e.g. "system", bound to the Linux
/// interface <paramref name="Name"/>) with its type's options, numbered <paramref name="Number"/>
/// or the lowest free number. Answer: <see cref="PortCreated"/> or <see cref="PortCommandFailed"/>.
/// </summary>
public sealed record CreatePort(string Name, string Type, IReadOnlyDictionary<string, string> Options, uint? Number = null) : INoSerializationVerificationNeeded;

/// <summary>ovs-vsctl del-port: stops the named port; the others keep their traffic. Answer: <see cref="PortDestroyed"/> (once a port the bridge created has stopped) or <see cref="PortCommandFailed"/>.</summary>
public sealed record DestroyPort(string Name) : INoSerializationVerificationNeeded;

public sealed record PortCreated(string Name, uint Number) : INoSerializationVerificationNeeded;

public sealed record PortDestroyed(string Name, uint Number) : INoSerializationVerificationNeeded;

/// <summary>A port command changed nothing; the message says why (no such interface, no privilege, name taken...).</summary>
public sealed record PortCommandFailed(string Error) : INoSerializationVerificationNeeded;

/// <summary>ovs-ofctl show: every port with its counters. Answer: <see cref="PortsShown"/>.</summary>
public sealed record ShowPorts : INoSerializationVerificationNeeded
{
    public static ShowPorts Instance { get; } = new();

    private ShowPorts()
    {
    }
}

/// <summary>One port of <see cref="PortsShown"/>; <paramref name="Counters"/> is null when its actor did not answer in time.</summary>
public sealed record PortDescription(uint Number, string Name, string Type, PortStatistics? Counters);

public sealed record PortsShown(IReadOnlyList<PortDescription> Ports) : INoSerializationVerificationNeeded;
