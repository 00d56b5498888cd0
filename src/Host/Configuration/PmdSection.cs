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
            Cpus = CpuMask(reader, CpuMaskKey),
        };
    }

    public const string CpuMaskKey = "datapath.pmd-cpu-mask";

    /// <summary>
    /// datapath.pmd-cpu-mask as Open vSwitch's other_config:pmd-cpu-mask: hexadecimal, bit i for
    /// CPU i, "0x" optional (0x6: CPUs 1 and 2); empty for none. The CPUs it names, ascending.
    /// </summary>
    public static IReadOnlyList<int> CpuMask(SettingReader reader, string key)
    {
        string text = reader.Text(key).Trim();
        if (text.Length == 0)
        {
            return [];
        }

        string digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length is 0 or > CpuAffinity.MaxCpus / 4 || !digits.All(char.IsAsciiHexDigit))
        {
            throw reader.Error(key, $"'{SettingReader.Shown(text)}' is not a hexadecimal CPU mask of CPUs 0 to {CpuAffinity.MaxCpus - 1} (as Open vSwitch's pmd-cpu-mask: 0x6 is CPUs 1 and 2)");
        }

        var cpus = new List<int>();
        for (int i = 0; i < digits.Length; i++)
        {
            int nibble = Convert.ToInt32(digits[^(i + 1)].ToString(), 16);
            for (int bit = 0; bit < 4; bit++)
            {
                if ((nibble & (1 << bit)) != 0)
                {
                    cpus.Add((i * 4) + bit);
                }
            }
        }

        return cpus.Count > 0 ? cpus : throw reader.Error(key, $"'{SettingReader.Shown(text)}' names no CPU");
    }

    /// <summary>
    /// The mask against the rest: a thread per PMD to pin, a CPU for each PMD, and CPUs this process
    /// may run on (checked here, where a mistake is a clear error, rather than when a PMD starts).
    /// </summary>
    public static void CheckCpus(SettingReader reader, PmdSettings pmd, int pmds)
    {
        if (pmd.Cpus.Count == 0)
        {
            return;
        }

        if (!pmd.DedicatedThreads)
        {
            throw reader.Error(CpuMaskKey, "pins each PMD's own thread: it needs datapath.pmd-dedicated-threads = on (on the shared pool a PMD has no thread of its own)");
        }

        if (pmd.Cpus.Count < pmds)
        {
            throw reader.Error(CpuMaskKey, $"names {pmd.Cpus.Count} CPU{(pmd.Cpus.Count == 1 ? "" : "s")} ({NumberRanges.Format(pmd.Cpus)}) for {pmds} PMDs: one CPU per PMD (datapath.pmds = 0 makes a PMD per CPU of the mask)");
        }

        if (!CpuAffinity.IsSupported)
        {
            throw reader.Error(CpuMaskKey, "pinning threads to CPUs is done on Linux only");
        }

        var allowed = CpuAffinity.OfCurrentThread();
        foreach (int cpu in pmd.Cpus.Take(pmds))
        {
            if (!allowed.Contains(cpu))
            {
                throw reader.Error(CpuMaskKey, $"CPU {cpu} is not one this process may run on ({NumberRanges.Format(allowed)})");
            }
        }
    }

    /// <summary>datapath.recirc-bypass: one of <see cref="BypassModes.Names"/> (on is megaflow).</summary>
    private static BypassMode Bypass(SettingReader reader, string key)
    {
        string text = reader.Text(key);
        return BypassModes.TryParse(text, out var mode)
            ? mode
            : throw reader.Error(key, $"'{SettingReader.Shown(text)}' is not one of {string.Join(", ", BypassModes.Names)}");
    }
}
