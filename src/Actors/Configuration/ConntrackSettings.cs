using System.Globalization;
using Datapath.Conntrack;

namespace Actors.Configuration;

/// <summary>The validated `datapath.conntrack` section.</summary>
/// <param name="Shards">Shard actors in the cluster (a configured 0 is resolved to the core count).</param>
/// <param name="ConnectionLimit">Committed connections allowed over all shards.</param>
/// <param name="ZoneLimits">Per-zone limits over all shards.</param>
/// <param name="SweepInterval">Time between two sweeps of one shard.</param>
/// <param name="SweepBudget">Expired connections one sweep slice may remove.</param>
/// <param name="Timeouts">Expiry timeouts.</param>
public sealed record ConntrackSettings(
    int Shards,
    int ConnectionLimit,
    IReadOnlyDictionary<ushort, int> ZoneLimits,
    TimeSpan SweepInterval,
    int SweepBudget,
    ConntrackTimeouts Timeouts)
{
    private const string Section = "datapath.conntrack";

    /// <summary>Whether TCP segments must fall inside the tracked window (tcp-sequence-check).</summary>
    public bool TcpSequenceCheck { get; init; } = true;

    /// <summary>Named timeout policies (timeout-policies), each the defaults with the attributes given.</summary>
    public IReadOnlyDictionary<string, ConntrackTimeouts> TimeoutPolicies { get; init; } = new Dictionary<string, ConntrackTimeouts>();

    /// <summary>The policy of each zone that has one (zone-timeout-policies).</summary>
    public IReadOnlyDictionary<ushort, string> ZoneTimeoutPolicies { get; init; } = new Dictionary<ushort, string>();

    /// <summary>The limits are enforced per shard: each shard's table gets ceil(limit / shards) (connections spread evenly by hash).</summary>
    public ConntrackOptions ShardOptions()
    {
        var zones = new Dictionary<ushort, int>(ZoneLimits.Count);
        foreach (var (zone, limit) in ZoneLimits)
        {
            zones[zone] = ShareOf(limit);
        }

        return new ConntrackOptions
        {
            ConnectionLimit = ShareOf(ConnectionLimit),
            ZoneLimits = zones,
            Timeouts = Timeouts,
            TcpSequenceCheck = TcpSequenceCheck,
            TimeoutPolicies = TimeoutPolicies,
            ZoneTimeoutPolicies = ZoneTimeoutPolicies,
        };
    }

    private int ShareOf(int limit) => (int)(((long)limit + Shards - 1) / Shards);

    internal static ConntrackSettings From(SettingReader reader)
    {
        int shards = reader.Int(Section + ".shards", 0, 4096);
        if (shards == 0)
        {
            shards = Environment.ProcessorCount;
        }

        var zones = new Dictionary<ushort, int>();
        foreach (var (name, value) in reader.Map(Section + ".zone-limits"))
        {
            string key = Section + ".zone-limits." + name;
            if (!ushort.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out ushort zone))
            {
                throw new ConfigurationException(reader.Source, key, $"'{name}' is not a zone (0..65535)");
            }

            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int limit))
            {
                throw new ConfigurationException(reader.Source, key, $"'{value}' is not a whole number of connections");
            }

            zones[zone] = limit;
        }

        var minTimeout = TimeSpan.FromMilliseconds(1);
        var maxTimeout = TimeSpan.FromDays(30);
        TimeSpan Timeout(string name) => reader.Duration(Section + ".timeouts." + name, minTimeout, maxTimeout);
        var timeouts = new ConntrackTimeouts
        {
            TcpSynSentMs = (long)Timeout("tcp-syn-sent").TotalMilliseconds,
            TcpSynRecvMs = (long)Timeout("tcp-syn-recv").TotalMilliseconds,
            TcpEstablishedMs = (long)Timeout("tcp-established").TotalMilliseconds,
            TcpFinWaitMs = (long)Timeout("tcp-fin-wait").TotalMilliseconds,
            TcpTimeWaitMs = (long)Timeout("tcp-time-wait").TotalMilliseconds,
            TcpCloseMs = (long)Timeout("tcp-close").TotalMilliseconds,
            UdpFirstMs = (long)Timeout("udp-first").TotalMilliseconds,
            UdpSingleMs = (long)Timeout("udp-single").TotalMilliseconds,
            UdpMultipleMs = (long)Timeout("udp-multiple").TotalMilliseconds,
            IcmpFirstMs = (long)Timeout("icmp-first").TotalMilliseconds,
            IcmpReplyMs = (long)Timeout("icmp-reply").TotalMilliseconds,
        };

        var policies = new Dictionary<string, ConntrackTimeouts>(StringComparer.Ordinal);
        foreach (var (name, attributes) in reader.Objects(Section + ".timeout-policies"))
        {
            var policy = timeouts;
            foreach (var (attribute, value) in attributes)
            {
                string key = $"{Section}.timeout-policies.{name}.{attribute}";
                if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint seconds) || seconds == 0)
                {
                    throw new ConfigurationException(reader.Source, key, $"'{value}' is not a whole number of seconds (1 or more)");
                }

                policy = policy.With(attribute, seconds * 1000L)
                    ?? throw new ConfigurationException(reader.Source, key, $"'{attribute}' is not a timeout policy attribute ({string.Join(", ", ConntrackTimeouts.AttributeNames)})");
            }

            policies[name] = policy;
        }

        var zonePolicies = new Dictionary<ushort, string>();
        foreach (var (name, value) in reader.Map(Section + ".zone-timeout-policies"))
        {
            string key = Section + ".zone-timeout-policies." + name;
            if (!ushort.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out ushort zone))
            {
                throw new ConfigurationException(reader.Source, key, $"'{name}' is not a zone (0..65535)");
            }

            if (!policies.ContainsKey(value))
            {
                throw new ConfigurationException(reader.Source, key, $"no timeout policy named '{value}' in {Section}.timeout-policies");
            }

            zonePolicies[zone] = value;
        }

        return new ConntrackSettings(
            shards,
            reader.Int(Section + ".connection-limit", 0, int.MaxValue),
            zones,
            reader.Duration(Section + ".sweep-interval", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            reader.Int(Section + ".sweep-budget", 1, int.MaxValue),
            timeouts)
        {
            TcpSequenceCheck = reader.Bool(Section + ".tcp-sequence-check"),
            TimeoutPolicies = policies,
            ZoneTimeoutPolicies = zonePolicies,
        };
    }
}
