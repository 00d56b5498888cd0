using Datapath.Packets;
using Traffic;

namespace Actors.Ports;

/// <summary>What a <see cref="StreamPortActor"/> sends and how its receive side is shaped (as <see cref="GeneratorPortSettings"/>).</summary>
public sealed record StreamPortSettings
{
    /// <summary>UDP or TCP.</summary>
    public TrafficProtocol Protocol { get; init; } = TrafficProtocol.Udp;

    /// <summary>Established bidirectional connections.</summary>
    public int Connections { get; init; } = 100;

    /// <summary>The address a source NAT in the datapath translates the clients to: the server answers it (null: no NAT).</summary>
    public uint? SnatAddress { get; init; }

    /// <summary>Receive queues per port; queue q is served by PMD q mod the number of PMDs.</summary>
    public int QueuesPerPort { get; init; } = 1;

    /// <summary>
    /// Feed only the queues of this PMD (index in the PMD list): the actor sends the frames of the
    /// connections whose queue that PMD serves and no others, as one PMD thread polling its own
    /// queues does (<see cref="StreamPortActor.StartPerPmd"/>). Null: every queue.
    /// </summary>
    public int? OnlyPmd { get; init; }

    /// <summary>datapath.port-window (no default here: the configuration holds it): batches a PMD may have from this port actor and not yet have taken.</summary>
    public required int Window { get; init; }

    /// <summary>Packets of each port's receive pool (frames on their way through the PMDs).</summary>
    public int ReceivePoolSize { get; init; } = 2048;

    /// <summary>Packets of each port's transmit pool (frames the PMDs transmit, until the port has counted them).</summary>
    public int TransmitPoolSize { get; init; } = 4096;

    /// <summary>How often an idle port looks again (a refilled pool).</summary>
    public TimeSpan IdlePollInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        Check(Protocol is TrafficProtocol.Udp or TrafficProtocol.Tcp, nameof(Protocol), "must be UDP or TCP");
        Check(Connections is >= 1 and <= EstablishedStreams.MaxConnections, nameof(Connections), $"must be between 1 and {EstablishedStreams.MaxConnections}");
        Check(QueuesPerPort is >= 1 and <= 1024, nameof(QueuesPerPort), "must be between 1 and 1024");
        Check(OnlyPmd is null or >= 0, nameof(OnlyPmd), "must not be negative");
        Check(Window >= 1, nameof(Window), "must be at least 1");
        Check(ReceivePoolSize >= PacketBatch.MaxSize, nameof(ReceivePoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(TransmitPoolSize >= PacketBatch.MaxSize, nameof(TransmitPoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(IdlePollInterval > TimeSpan.Zero, nameof(IdlePollInterval), "must be positive");
    }

    private static void Check(bool ok, string name, string message)
    {
        if (!ok)
        {
            throw new ArgumentException($"StreamPortSettings.{name} {message}.", name);
        }
    }
}
