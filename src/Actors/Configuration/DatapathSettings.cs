using System.Numerics;
using Actors.Pmd;
using Akka.Configuration;

namespace Actors.Configuration;

/// <summary>The validated `datapath` section.</summary>
public sealed record DatapathSettings(int EmcEntries, int EmcInsertInvProb, GeneratorSettings Generator, ConntrackSettings Conntrack)
{
    /// <summary>PMD actors to run (the configured count, or one per core for 0).</summary>
    public int Pmds { get; init; } = Environment.ProcessorCount;

    /// <summary>What every PMD actor is configured with.</summary>
    public PmdSettings Pmd { get; init; } = new();

    public static DatapathSettings From(Config config, string source)
    {
        var reader = new SettingReader(config, source);
        int emc = reader.Int("datapath.emc-entries", 0, 1 << 20);
        if (emc != 0 && !BitOperations.IsPow2(emc))
        {
            throw new ConfigurationException(source, "datapath.emc-entries", $"{emc} is not a power of two (or 0 to turn the EMC off)");
        }

        int pmds = reader.Int("datapath.pmds", 0, 1024);
        int emcInsertInvProb = reader.Int("datapath.emc-insert-inv-prob", 0, int.MaxValue);
        var pmd = new PmdSettings
        {
            EmcEntries = emc,
            EmcInsertInvProb = emcInsertInvProb,
            MaxRecirculationDepth = reader.Int("datapath.max-recirculation-depth", 1, 64),
            MegaflowIdleMs = (long)reader.Duration("datapath.megaflow-idle", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)).TotalMilliseconds,
            RevalidateInterval = reader.Duration("datapath.revalidate-interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
            DirectConntrackRoutes = reader.Bool("datapath.conntrack-direct-routes"),
        };
        return new DatapathSettings(
            emc,
            emcInsertInvProb,
            new GeneratorSettings(
                reader.Int("datapath.generator.connections", 1, 10_000_000),
                reader.Long("datapath.generator.packets", 1, long.MaxValue),
                reader.Int("datapath.generator.frame-size", 64, 1514)),
            ConntrackSettings.From(reader))
        {
            Pmds = pmds == 0 ? Environment.ProcessorCount : pmds,
            Pmd = pmd,
        };
    }
}

/// <summary>The synthetic traffic of the main job.</summary>
public sealed record GeneratorSettings(int Connections, long Packets, int FrameSize);
