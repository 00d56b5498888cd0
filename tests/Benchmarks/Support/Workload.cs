using Datapath.Flow;
using Datapath.Packets;
using TestSupport.Frames;

namespace Benchmarks.Support;

/// <summary>The 32-flow traffic every benchmark uses: frames, packets and extracted keys, built once in setup.</summary>
internal static class Workload
{
    /// <summary>Packets (or keys) per benchmark invocation: one batch.</summary>
    public const int Batch = PacketBatch.MaxSize;

    public const uint ClientIp = 0x0A01_0000;
    public const uint ServerIp = 0x0A02_0001;
    public const ushort ServerPort = 5001;
    public const uint InPort = 1;
    public const uint OutPort = 2;

    private static readonly UInt128 ClientIp6 = (UInt128)0xFD00_0000_0000_0001UL << 64;
    private static readonly UInt128 ServerIp6 = ((UInt128)0xFD00_0000_0000_0002UL << 64) | 1;

    /// <summary>The customary minimal test frames, without FCS: 64 bytes for IPv4, 78 for IPv6 (the payload fills the rest).</summary>
    private const int Ipv4FrameLength = 64;
    private const int Ipv6FrameLength = 78;

    /// <summary>Connection <paramref name="i"/>: 10.1.0.(i+1):(1024+i) to 10.2.0.1:5001.</summary>
    public static byte[] Udp4Frame(int i) => Udp4(ClientIp + (uint)i + 1, ServerIp, (ushort)(1024 + i), ServerPort);

    public static byte[] Tcp4Frame(int i) =>
        Frame.Ipv4(ClientIp + (uint)i + 1, ServerIp).Tcp((ushort)(1024 + i), ServerPort, TcpFlags.Ack, 0x1000_0000, 0x2000_0000, 0xFFFF).Payload(Ipv4FrameLength - 54).Build();

    public static byte[] Tcp6Frame(int i) =>
        Frame.Ipv6(ClientIp6 + (uint)i + 1, ServerIp6).Tcp((ushort)(1024 + i), ServerPort, TcpFlags.Ack, 0x1000_0000, 0x2000_0000, 0xFFFF).Payload(Ipv6FrameLength - 74).Build();

    /// <summary>A 64-byte UDP frame with valid checksums.</summary>
    public static byte[] Udp4(uint source, uint destination, ushort sourcePort, ushort destinationPort) =>
        Frame.Ipv4(source, destination).Udp(sourcePort, destinationPort).Payload(Ipv4FrameLength - 42).Build();

    public static byte[][] Frames(Func<int, byte[]> frame)
    {
        var frames = new byte[Batch][];
        for (int i = 0; i < Batch; i++)
        {
            frames[i] = frame(i);
        }

        return frames;
    }

    /// <summary>One packet per frame, received on <see cref="InPort"/>, extracted once so that layer offsets are set.</summary>
    public static Packet[] Packets(byte[][] frames)
    {
        var packets = new Packet[frames.Length];
        var key = default(FlowKey);
        var stats = new ExtractionStats();
        for (int i = 0; i < frames.Length; i++)
        {
            packets[i] = new Packet();
            packets[i].SetFrame(frames[i], InPort);
            FlowExtractor.Extract(packets[i], ref key, stats);
        }

        Check.That(stats.Total == 0, "workload frames must extract without a malformed stop");
        return packets;
    }

    /// <summary>The flow keys of <paramref name="frames"/> as flow extraction builds them.</summary>
    public static FlowKey[] Keys(byte[][] frames)
    {
        var keys = new FlowKey[frames.Length];
        var stats = new ExtractionStats();
        Packet[] packets = Packets(frames);
        for (int i = 0; i < packets.Length; i++)
        {
            FlowExtractor.Extract(packets[i], ref keys[i], stats);
        }

        return keys;
    }
}
