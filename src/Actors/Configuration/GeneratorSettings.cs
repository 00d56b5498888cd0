using Actors.Ports;
using Traffic;

namespace Actors.Configuration;

/// <summary>The validated `datapath.generator` section: the main job's traffic and how long it runs.</summary>
public sealed record GeneratorSettings(TrafficProfile Profile, ulong Seed, TimeSpan Duration)
{
    private const string Section = "datapath.generator";

    internal static GeneratorSettings From(SettingReader reader)
    {
        int tcp = reader.Int(Section + ".tcp-percent", 0, 100);
        int udp = reader.Int(Section + ".udp-percent", 0, 100);
        int icmp = reader.Int(Section + ".icmp-percent", 0, 100);
        if (tcp + udp + icmp != 100)
        {
            throw new ConfigurationException(reader.Source, Section + ".tcp-percent", $"tcp-percent, udp-percent and icmp-percent add up to {tcp + udp + icmp}, not 100");
        }

        int min = reader.Int(Section + ".frame-size-min", FrameSizeRange.Minimum, 1514);
        int max = reader.Int(Section + ".frame-size-max", FrameSizeRange.Minimum, 1514);
        if (max < min)
        {
            throw new ConfigurationException(reader.Source, Section + ".frame-size-max", $"{max} is below frame-size-min ({min})");
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
        return new GeneratorSettings(
            profile,
            (ulong)reader.Long(Section + ".seed", 0, long.MaxValue),
            reader.Duration(Section + ".duration", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)));
    }

    /// <summary>The generator port for <paramref name="pmds"/> PMDs.</summary>
    public GeneratorPortSettings PortSettings(int queuesPerPort, int window) => new()
    {
        Profile = Profile,
        Seed = Seed,
        QueuesPerPort = queuesPerPort,
        Window = window,
    };
}
