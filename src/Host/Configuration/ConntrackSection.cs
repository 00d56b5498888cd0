using System.Globalization;
using Actors.Conntrack;
using Datapath.Conntrack;

namespace Host.Configuration;

/// <summary>Reads `datapath.conntrack`: the conntrack shards' settings.</summary>
internal static class ConntrackSection
{
    private const string Section = "datapath.conntrack";

    /// <param name="pmds">The node's PMD count: 0 shards means one per PMD. A PMD hosting two shards
    /// splits every batch in two groups and tracks each apart (1 PMD on two cores with a shard per
    /// core was 4-5 % slower than with one shard, measured), while more PMDs than shards leave PMDs
    /// without a shard of their own.</param>
    public static ConntrackSettings Read(SettingReader reader, int pmds)
    {
        int shards = reader.Int(Section + ".shards", 0, 4096);
        if (shards == 0)
        {
            shards = Math.Min(pmds, 4096);
        }

        var zones = new Dictionary<ushort, int>();
        foreach (var (name, value) in reader.Map(Section + ".zone-limits"))
        {
            string key = Section + ".zone-limits." + name;
            if (!ushort.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out ushort zone))
            {
                throw reader.Error(key, $"'{SettingReader.Shown(name)}' is not a zone (0..65535)");
            }

            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int limit))
            {
                throw reader.Error(key, $"'{SettingReader.Shown(value)}' is not a whole number of connections");
            }

            zones[zone] = limit;
        }

        var minTimeout = TimeSpan.FromMilliseconds(1);
        var maxTimeout = TimeSpan.FromMilliseconds(ConntrackTimeouts.MaxTimeoutMs);
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
                    throw reader.Error(key, $"'{SettingReader.Shown(value)}' is not a whole number of seconds (1 or more)");
                }

                // The bound of the timeouts above: a moved connection's expiry is checked against it,
                // so a longer policy would have its connections refused on every hand-off.
                if (seconds > maxTimeout.TotalSeconds)
                {
                    throw reader.Error(key, $"{seconds} is outside 1..{(long)maxTimeout.TotalSeconds} seconds (30 days, the longest timeout)");
                }

                policy = policy.With(attribute, seconds * 1000L)
                    ?? throw reader.Error(key, $"'{SettingReader.Shown(attribute)}' is not a timeout policy attribute ({string.Join(", ", ConntrackTimeouts.AttributeNames)})");
            }

            policies[name] = policy;
        }

        var zonePolicies = new Dictionary<ushort, string>();
        foreach (var (name, value) in reader.Map(Section + ".zone-timeout-policies"))
        {
            string key = Section + ".zone-timeout-policies." + name;
            if (!ushort.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out ushort zone))
            {
                throw reader.Error(key, $"'{SettingReader.Shown(name)}' is not a zone (0..65535)");
            }

            if (!policies.ContainsKey(value))
            {
                throw reader.Error(key, $"no timeout policy named '{SettingReader.Shown(value)}' in {Section}.timeout-policies");
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
            HostOnPmds = reader.Bool(Section + ".host-on-pmds"),
            Replication = ReadReplication(reader),
            TcpSequenceCheck = reader.Bool(Section + ".tcp-sequence-check"),
            TimeoutPolicies = policies,
            ZoneTimeoutPolicies = zonePolicies,
        };
    }

    /// <summary>`replication`: an interval (10ms..1m), or off.</summary>
    private static TimeSpan? ReadReplication(SettingReader reader)
    {
        const string key = Section + ".replication";
        string raw = reader.Text(key);
        return raw.Equals("off", StringComparison.OrdinalIgnoreCase) || raw.Equals("false", StringComparison.OrdinalIgnoreCase)
            ? null
            : reader.Duration(key, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));
    }
}
