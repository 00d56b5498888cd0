using Actors.Ports;
using Traffic;

namespace Host.Configuration;

/// <summary>Reads `datapath.generator`: the generator ports of the main job (their traffic and seed); its `duration` is the job's.</summary>
internal static class GeneratorSection
{
    private const string Section = "datapath.generator";

    public static GeneratorPortSettings Read(SettingReader reader, int queuesPerPort, int window)
    {
        int tcp = reader.Int(Section + ".tcp-percent", 0, 100);
        int udp = reader.Int(Section + ".udp-percent", 0, 100);
        int icmp = reader.Int(Section + ".icmp-percent", 0, 100);
        if (tcp + udp + icmp != 100)
        {
            throw reader.Error(Section + ".tcp-percent", $"tcp-percent, udp-percent and icmp-percent add up to {tcp + udp + icmp}, not 100");
        }

        int min = reader.Int(Section + ".frame-size-min", FrameSizeRange.Minimum, 1514);
        int max = reader.Int(Section + ".frame-size-max", FrameSizeRange.Minimum, 1514);
        if (max < min)
        {
            throw reader.Error(Section + ".frame-size-max", $"{max} is below frame-size-min ({min})");
        }

        var profile = new TrafficProfile
        {
            Connections = reader.Int(Section + ".connections", 1, 1_000_000),
            TcpPercent = tcp,
            UdpPercent = udp,
            IcmpPercent = icmp,
            FrameSize = new FrameSizeRange(min, max),
            RatePps = reader.Long(Section + ".rate-pps", 0, 1_000_000_000),
            RequestsPerConnection = reader.Int(Section + ".requests-per-connection", 1, 1_000_000),
            ServerInitiatedPercent = reader.Int(Section + ".server-initiated-percent", 0, 100),
            ConnectionTimeout = reader.Duration(Section + ".connection-timeout", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
        };
        return new GeneratorPortSettings
        {
            Profile = profile,
            Seed = (ulong)reader.Long(Section + ".seed", 0, long.MaxValue),
            QueuesPerPort = queuesPerPort,
            Window = window,
        };
    }

    /// <summary>How long the main job runs (whatever drives its ports).</summary>
    public static TimeSpan Duration(SettingReader reader) =>
        reader.Duration(Section + ".duration", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
}
