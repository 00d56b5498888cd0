using Datapath.Packets;
using Traffic;

namespace Traffic.Tests;

/// <summary>What the wire does with one frame the generator sent.</summary>
internal enum WireVerdict
{
    Forward,
    Drop,
}

/// <summary>
/// The test's datapath: each step fills one batch per port and forwards every frame to the other
/// port (port 1 to 2, 2 to 1) unless <see cref="Filter"/> drops it, on a virtual clock.
/// </summary>
internal sealed class TrafficWire
{
    private readonly PacketPool _pool = new(256);
    private readonly PacketBatch _batch = new();

    /// <summary>
    /// Data frames of every Ethernet length the generator writes (the main job's default sends
    /// only minimum-size ones), so that the tests see short and full frames alike.
    /// </summary>
    public static FrameSizeRange EveryLength { get; } = new(FrameSizeRange.Minimum, 1514);

    public TrafficWire(TrafficProfile profile, ulong seed = 1, ConnectionShare? share = null)
    {
        Generator = new TrafficGenerator(profile, seed, share);
    }

    public TrafficGenerator Generator { get; }

    public long NowNs { get; set; } = 1_000_000_000;

    /// <summary>Sees every generated frame (in_port = the sending host's port) and decides its fate.</summary>
    public Func<uint, Packet, WireVerdict>? Filter { get; set; }

    /// <summary>Frames sent but dropped by <see cref="Filter"/>.</summary>
    public long Dropped { get; private set; }

    /// <summary>Runs <paramref name="steps"/> steps, advancing the clock by <paramref name="stepNs"/> after each.</summary>
    public void Run(int steps, long stepNs = 10_000)
    {
        for (int i = 0; i < steps; i++)
        {
            Step(1);
            Step(2);
            NowNs += stepNs;
        }
    }

    private void Step(uint port)
    {
        int n = Generator.Fill(port, _batch, _pool, NowNs);
        Assert.Equal(n, _batch.Count);
        foreach (var packet in _batch.Packets)
        {
            Assert.Equal(port, packet.Metadata.InPort);
            if (Filter is null || Filter(port, packet) == WireVerdict.Forward)
            {
                Generator.OnTransmitted(3 - port, packet, NowNs);
            }
            else
            {
                Dropped++;
            }
        }

        _pool.Return(_batch);
    }
}
