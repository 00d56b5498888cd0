using System.Runtime.InteropServices;

namespace Actors.Pmd;

/// <summary>
/// The CPUs the calling thread may run on, read and set through Linux's sched_getaffinity and
/// sched_setaffinity (pid 0: the calling thread). .NET sets a whole process's affinity but not one
/// thread's on Linux (ProcessThread.ProcessorAffinity is Windows only), and datapath.pmd-cpu-mask
/// pins each PMD's own thread, as Open vSwitch's pmd-cpu-mask pins its PMD threads.
/// </summary>
public static class CpuAffinity
{
    /// <summary>The CPUs a mask may name: glibc's cpu_set_t.</summary>
    public const int MaxCpus = 1024;

    private const int Words = MaxCpus / 64;

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>The CPUs the calling thread may run on, ascending (a new thread inherits its creator's).</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="IOException">The kernel refused.</exception>
    public static IReadOnlyList<int> OfCurrentThread()
    {
        EnsureSupported();
        var mask = new ulong[Words];
        if (SchedGetAffinity(0, Words * sizeof(ulong), mask) != 0)
        {
            throw Failure("sched_getaffinity");
        }

        var cpus = new List<int>();
        for (int cpu = 0; cpu < MaxCpus; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                cpus.Add(cpu);
            }
        }

        return cpus;
    }

    /// <summary>Lets the calling thread run on <paramref name="cpu"/> only.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="IOException">The kernel refused (a CPU the process may not use, or one that is offline).</exception>
    public static void PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, MaxCpus);
        EnsureSupported();
        var mask = new ulong[Words];
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (SchedSetAffinity(0, Words * sizeof(ulong), mask) != 0)
        {
            throw Failure($"sched_setaffinity to CPU {cpu}");
        }
    }

    private static void EnsureSupported()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("pinning a thread to a CPU is done on Linux only");
        }
    }

    private static IOException Failure(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int SchedGetAffinity(int pid, nint size, [Out] ulong[] mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint size, ulong[] mask);
}
