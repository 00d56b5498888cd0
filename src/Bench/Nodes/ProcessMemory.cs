using System.Globalization;

namespace Bench.Nodes;

/// <summary>
/// This process's memory as a bench reports it: resident set size and its peak from /proc/self/status
/// (VmRSS, VmHWM; Linux), the peak started over by writing 5 to /proc/self/clear_refs, and the managed
/// bytes allocated since a mark. Elsewhere the resident sizes read 0.
/// </summary>
internal sealed class ProcessMemory
{
    private long _allocatedAtMark = GC.GetTotalAllocatedBytes(precise: true);

    /// <summary>Starts the peak and the allocation count over from now.</summary>
    public void Mark()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not allowed: the peak then counts from the process's start.
        }

        _allocatedAtMark = GC.GetTotalAllocatedBytes(precise: true);
    }

    public BenchNodeReport Read() => new(Status("VmRSS:"), Status("VmHWM:"), GC.GetTotalAllocatedBytes(precise: true) - _allocatedAtMark);

    /// <summary>A "NAME: N kB" line of /proc/self/status in bytes, or 0.</summary>
    private static long Status(string name)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(name, StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(name.Length).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                {
                    return kb * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
