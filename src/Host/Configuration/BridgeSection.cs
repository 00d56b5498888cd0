using Actors.Bridge;

namespace Host.Configuration;

/// <summary>Reads the bridge's keys of `datapath`: rule expiry, fan-outs to the PMDs, and the shape of the ports it creates.</summary>
internal static class BridgeSection
{
    public static BridgeSettings Read(SettingReader reader) => new()
    {
        ExpiryInterval = reader.Duration("datapath.flow-expiry-interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
        GatherTimeout = reader.Duration("datapath.gather-timeout", TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10)),
        PortQueues = reader.Int("datapath.queues-per-port", 0, 1024),
        PortWindow = reader.Int("datapath.port-window", 1, 1024),
        DatapathId = DatapathId(reader, "datapath.openflow.datapath-id"),
    };

    /// <summary>16 hex digits (ovs-vsctl's other-config:datapath-id).</summary>
    private static ulong DatapathId(SettingReader reader, string key)
    {
        string text = reader.Text(key);
        return text.Length == 16 && ulong.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out ulong id)
            ? id
            : throw reader.Error(key, $"'{SettingReader.Shown(text)}' is not 16 hex digits");
    }
}
