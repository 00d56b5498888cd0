using System.Numerics;
using Akka.Configuration;

namespace Actors.Configuration;

/// <summary>The validated `datapath` section.</summary>
public sealed record DatapathSettings(int EmcEntries, int EmcInsertInvProb, GeneratorSettings Generator, ConntrackSettings Conntrack)
{
    public static DatapathSettings From(Config config, string source)
    {
        var reader = new SettingReader(config, source);
        int emc = reader.Int("datapath.emc-entries", 0, 1 << 20);
        if (emc != 0 && !BitOperations.IsPow2(emc))
        {
            throw new ConfigurationException(source, "datapath.emc-entries", $"{emc} is not a power of two (or 0 to turn the EMC off)");
        }

        return new DatapathSettings(
            emc,
            reader.Int("datapath.emc-insert-inv-prob", 0, int.MaxValue),
            new GeneratorSettings(
                reader.Int("datapath.generator.connections", 1, 10_000_000),
                reader.Long("datapath.generator.packets", 1, long.MaxValue),
                reader.Int("datapath.generator.frame-size", 64, 1514)),
            ConntrackSettings.From(reader));
    }
}

/// <summary>The synthetic traffic of the main job.</summary>
public sealed record GeneratorSettings(int Connections, long Packets, int FrameSize);
