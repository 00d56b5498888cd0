using Datapath.Packets;
using Datapath.Packets.Pcap;

namespace Actors.Ports;

/// <summary>How a <see cref="PcapPortActor"/> may reorder a capture's frames on their way into the datapath.</summary>
public enum PcapOrdering
{
    /// <summary>
    /// A frame never overtakes a frame of the other direction: consecutive frames of one port flow
    /// in windowed batches, and before the first frame of another port everything sent so far is
    /// finished (the PMDs are quiesced). A reply thus meets the conntrack state its request left, as
    /// when the hosts produced the capture, and a stateful firewall gives the capture's verdicts.
    /// </summary>
    Causal,

    /// <summary>
    /// Frames flow in windowed batches regardless of port, as two independent wires would deliver
    /// them: the most throughput, but a reply may reach conntrack before its request has been
    /// committed, and then a stateful firewall drops it.
    /// </summary>
    Pipelined,
}

/// <summary>What a <see cref="PcapPortActor"/> reads, writes and how it feeds the PMDs.</summary>
public sealed record PcapPortSettings
{
    /// <summary>The capture whose frames are received.</summary>
    public required string RxPath { get; init; }

    /// <summary>The port every frame enters; null assigns ports by source MAC as the replay contract does (02:00:00:00:00:01 port 1, ...:02 port 2, other frames skipped and counted).</summary>
    public uint? InPort { get; init; }

    /// <summary>Per port, the file its transmitted frames are written to (created or truncated at start).</summary>
    public IReadOnlyDictionary<uint, string> TxPaths { get; init; } = new Dictionary<uint, string>();

    /// <summary>Start the capture again at its end (the clock goes on from the last frame), until stopped.</summary>
    public bool Loop { get; init; }

    public PcapOrdering Ordering { get; init; } = PcapOrdering.Causal;

    /// <summary>Receive queues per port; queue q is served by PMD q mod the number of PMDs.</summary>
    public int QueuesPerPort { get; init; } = 1;

    /// <summary>datapath.port-window (no default here: the configuration holds it): batches a PMD may have from this port actor and not yet have taken; a full window makes the port wait, never drop.</summary>
    public required int Window { get; init; }

    /// <summary>Packets of the receive pool (shared by the actor's ports); an empty pool makes the port wait.</summary>
    public int ReceivePoolSize { get; init; } = 2048;

    /// <summary>Packets of each port's transmit pool.</summary>
    public int TransmitPoolSize { get; init; } = 4096;

    /// <summary>How long the port waits before looking at an empty receive pool again.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>The ports the actor serves: where frames enter and where a tx file is written, in order.</summary>
    public IReadOnlyList<uint> Ports
    {
        get
        {
            var ports = new SortedSet<uint>(TxPaths.Keys);
            if (InPort is { } port)
            {
                ports.Add(port);
            }
            else
            {
                ports.Add(1);
                ports.Add(2);
            }

            return [.. ports];
        }
    }

    /// <summary>
    /// Checks the values and that the rx file opens as a pcap; throws an <see cref="ArgumentException"/>
    /// naming the setting, or the reader's exception naming the file.
    /// </summary>
    /// <exception cref="PcapFormatException">The rx file's header is not a supported pcap header.</exception>
    /// <exception cref="IOException">The rx file cannot be opened.</exception>
    public void Validate()
    {
        Check(!string.IsNullOrEmpty(RxPath), nameof(RxPath), "must name a file");
        Check(InPort is null or > 0, nameof(InPort), "must not be 0");
        Check(QueuesPerPort is >= 1 and <= 1024, nameof(QueuesPerPort), "must be between 1 and 1024");
        Check(Window >= 1, nameof(Window), "must be at least 1");
        Check(ReceivePoolSize >= PacketBatch.MaxSize, nameof(ReceivePoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(TransmitPoolSize >= PacketBatch.MaxSize, nameof(TransmitPoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(RetryInterval > TimeSpan.Zero, nameof(RetryInterval), "must be positive");
        foreach (var (port, path) in TxPaths)
        {
            Check(port > 0 && !string.IsNullOrEmpty(path), nameof(TxPaths), "must map ports above 0 to file names");
        }

        using var reader = PcapReader.Open(RxPath);
    }

    private static void Check(bool ok, string name, string message)
    {
        if (!ok)
        {
            throw new ArgumentException($"PcapPortSettings.{name} {message}.", name);
        }
    }
}
