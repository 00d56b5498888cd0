using Datapath.Packets;
using Traffic;

namespace Actors.Ports;

/// <summary>What a <see cref="GeneratorPortActor"/> simulates and how its receive side is shaped.</summary>
public sealed record GeneratorPortSettings
{
    /// <summary>The two hosts' traffic; <see cref="TrafficProfile.RatePps"/> 0 runs unpaced.</summary>
    public required TrafficProfile Profile { get; init; }

    /// <summary>The generator's seed: the same seed and the same datapath give the same frames.</summary>
    public required ulong Seed { get; init; }

    /// <summary>Receive queues per port; queue q is served by PMD q mod the number of PMDs.</summary>
    public int QueuesPerPort { get; init; } = 1;

    /// <summary>datapath.port-window (no default here: the configuration holds it): batches a PMD may have from this port actor and not yet have taken.</summary>
    public required int Window { get; init; }

    /// <summary>Packets of each port's receive pool (frames on their way through the PMDs).</summary>
    public int ReceivePoolSize { get; init; } = 2048;

    /// <summary>Packets of each port's transmit pool (frames the PMDs transmit, until the port has sent them).</summary>
    public int TransmitPoolSize { get; init; } = 4096;

    /// <summary>Frames generated (both ports together, drops included) after which the hosts stop; 0 for no limit. Checked per round, so up to one batch per port more may go.</summary>
    public long MaxFrames { get; init; }

    /// <summary>Paced: how often the hosts are given their due frames (the scheduler's resolution, 10 ms by default, bounds it in practice).</summary>
    public TimeSpan PacingInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Unpaced: how often an idle port looks again (a refilled pool, connections to time out).</summary>
    public TimeSpan IdlePollInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        Profile.Validate();
        Check(QueuesPerPort is >= 1 and <= 1024, nameof(QueuesPerPort), "must be between 1 and 1024");
        Check(Window >= 1, nameof(Window), "must be at least 1");
        Check(ReceivePoolSize >= PacketBatch.MaxSize, nameof(ReceivePoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(TransmitPoolSize >= PacketBatch.MaxSize, nameof(TransmitPoolSize), $"must be at least {PacketBatch.MaxSize}");
        Check(MaxFrames >= 0, nameof(MaxFrames), "must not be negative");
        Check(PacingInterval > TimeSpan.Zero, nameof(PacingInterval), "must be positive");
        Check(IdlePollInterval > TimeSpan.Zero, nameof(IdlePollInterval), "must be positive");
    }

    /// <summary>The packet size that holds the profile's largest frame.</summary>
    internal int PacketCapacity => Math.Max(Packet.DefaultCapacity, Profile.Mtu + 14 + Packet.DefaultHeadroom);

    private static void Check(bool ok, string name, string message)
    {
        if (!ok)
        {
            throw new ArgumentException($"GeneratorPortSettings.{name} {message}.", name);
        }
    }
}
