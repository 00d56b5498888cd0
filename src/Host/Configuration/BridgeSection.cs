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
    };
}
