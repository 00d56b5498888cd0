using System.Numerics;
using Actors.Pmd;
using Datapath.Bypass;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Host.Configuration;

/// <summary>Reads the PMD keys of `datapath`: what every PMD actor (and the inline reference) runs with.</summary>
internal static class PmdSection
{
    public static PmdSettings Read(SettingReader reader)
    {
        int emc = reader.Int("datapath.emc-entries", 0, 1 << 20);
        if (emc != 0 && !BitOperations.IsPow2(emc))
        {
            throw reader.Error("datapath.emc-entries", $"{emc} is not a power of two (or 0 to turn the EMC off)");
        }

        var core = new PmdCoreOptions
        {
            EmcEntries = emc,
            EmcInsertInvProb = reader.Int("datapath.emc-insert-inv-prob", 0, int.MaxValue),
            Bypass = Bypass(reader, "datapath.recirc-bypass"),
            MaxBypassFlows = reader.Int("datapath.recirc-bypass-max-flows", 1, 1 << 24),
            MaxRecirculationDepth = reader.Int("datapath.max-recirculation-depth", 1, 64),
            MegaflowIdleMs = (long)reader.Duration("datapath.megaflow-idle", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)).TotalMilliseconds,
            PacketPoolSize = reader.Int("datapath.packet-pool-size", PacketBatch.MaxSize, 1 << 24),
        };
        return new PmdSettings
        {
            Core = core,
            RevalidateInterval = reader.Duration("datapath.revalidate-interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
            DirectConntrackRoutes = reader.Bool("datapath.conntrack-direct-routes"),
            ConntrackAnswerTimeout = reader.Duration("datapath.conntrack-answer-timeout", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
            DedicatedThreads = reader.Bool("datapath.pmd-dedicated-threads"),
        };
    }

    /// <summary>datapath.recirc-bypass: one of <see cref="BypassModes.Names"/> (on is megaflow).</summary>
    private static BypassMode Bypass(SettingReader reader, string key)
    {
        string text = reader.Text(key);
        return BypassModes.TryParse(text, out var mode)
            ? mode
            : throw reader.Error(key, $"'{text}' is not one of {string.Join(", ", BypassModes.Names)}");
    }
}
