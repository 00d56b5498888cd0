using Datapath.Packets;

namespace Actors.Ports;

/// <summary>What a <see cref="SystemPortActor"/> binds to and how it feeds the PMDs.</summary>
public sealed record SystemPortSettings
{
    /// <summary>The Linux interface (ip link's name) whose frames the port sends and receives.</summary>
    public required string Interface { get; init; }

    /// <summary>The OpenFlow port number (in_port of received frames, output:N to send).</summary>
    public required uint Port { get; init; }

    /// <summary>The port's name (ovs-ofctl show); the interface's name when null.</summary>
    public string? Name { get; init; }

    /// <summary>Receive queues: packet sockets in one hash fanout group; queue q is served by PMD q mod the number of PMDs (Open vSwitch: options:n_rxq).</summary>
    public int Queues { get; init; } = 1;

    /// <summary>datapath.port-window (no default here: the configuration holds it): batches a PMD may have from this port and not yet have taken; a frame that finds the window full is dropped (rx dropped: overload).</summary>
    public required int Window { get; init; }

    /// <summary>Packets of each receive queue's pool; a frame that finds it empty is dropped (rx dropped: pool empty).</summary>
    public int ReceivePoolSize { get; init; } = 2048;

    /// <summary>Packets of the port's transmit pool (the PMDs copy outputs into it).</summary>
    public int TransmitPoolSize { get; init; } = 4096;

    /// <summary>Socket buffer of each receive socket and of the transmit socket (frames wait there when the datapath is busy).</summary>
    public int SocketBufferBytes { get; init; } = 4 << 20;

    /// <summary>The longest a receive thread waits in poll(2): how long a stop or pause may take.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the setting that is out of range.</summary>
    public void Validate()
    {
        Check(!string.IsNullOrWhiteSpace(Interface), nameof(Interface), "must name an interface");
        Check(Port > 0, nameof(Port), "must not be 0");
        Check(Queues is >= 1 and <= 1024, nameof(Queues), "must be between 1 and 1024");
        Check(Window >= 1, nameof(Window), "must be at least 1");
        Check(ReceivePoolSize >= PacketBatch.MaxSize, nameof(ReceivePoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(TransmitPoolSize >= PacketBatch.MaxSize, nameof(TransmitPoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(SocketBufferBytes >= 65_536, nameof(SocketBufferBytes), "must be at least 65536");
        Check(PollInterval > TimeSpan.Zero, nameof(PollInterval), "must be positive");
    }

    private static void Check(bool ok, string name, string message)
    {
        if (!ok)
        {
            throw new ArgumentException($"SystemPortSettings.{name} {message}.", name);
        }
    }
}
