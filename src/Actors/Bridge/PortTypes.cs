using System.Globalization;
using Actors.Ports;
using Actors.Ports.Linux;
using Akka.Actor;
using Datapath.Packets;

namespace Actors.Bridge;

/// <summary>
/// The port types a bridge can create by name (<see cref="CreatePort"/>), with their options in
/// ovs-vsctl's terms. Starts the port actor as a child of the caller; every refusal is a
/// <see cref="PortCommandException"/> whose message the user reads.
/// </summary>
internal static class PortTypes
{
    /// <summary>The types <see cref="Start"/> knows, for the error message.</summary>
    public const string Known = SystemPortActor.TypeName;

    /// <summary>Options of a system port: n_rxq, the receive queues (Open vSwitch's options:n_rxq).</summary>
    private const string ReceiveQueues = "n_rxq";

    public static PortHandle Start(IActorRefFactory context, CreatePort command, uint number, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, BridgeSettings settings, string actorName)
    {
        if (pmds.Count == 0)
        {
            throw new PortCommandException($"{command.Name}: the bridge has no PMD to serve the port");
        }

        if (command.Type != SystemPortActor.TypeName)
        {
            throw new PortCommandException($"{command.Name}: unknown port type '{command.Type}' (known: {Known})");
        }

        int queues = settings.PortQueues > 0 ? settings.PortQueues : pmds.Count;
        foreach (var (key, value) in command.Options ?? new Dictionary<string, string>())
        {
            if (key != ReceiveQueues)
            {
                throw new PortCommandException($"{command.Name}: unknown option '{key}' for a system port (known: {ReceiveQueues})");
            }

            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out queues) || queues is < 1 or > 1024)
            {
                throw new PortCommandException($"{command.Name}: {ReceiveQueues} must be a number of queues from 1 to 1024, not '{value}'");
            }
        }

        var portSettings = new SystemPortSettings
        {
            Interface = command.Name,
            Port = number,
            Queues = queues,
            Window = settings.PortWindow,
        };
        try
        {
            return SystemPortActor.Start(context, portSettings, pmds, batches, actorName);
        }
        catch (SystemPortException e)
        {
            throw new PortCommandException(e.Message, e);
        }
    }
}

/// <summary>A port command cannot be carried out; the message is the answer's <see cref="PortCommandFailed.Error"/>.</summary>
public sealed class PortCommandException : Exception
{
    public PortCommandException()
    {
    }

    public PortCommandException(string message)
        : base(message)
    {
    }

    public PortCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
