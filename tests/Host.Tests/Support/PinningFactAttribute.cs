using Actors.Pmd;

namespace Host.Tests.Support;

/// <summary>A fact about pinning threads to CPUs (datapath.pmd-cpu-mask): Linux only, skipped with the reason elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PinningFactAttribute : FactAttribute
{
    public PinningFactAttribute()
    {
        if (!CpuAffinity.IsSupported)
        {
            Skip = "pinning threads to CPUs is done on Linux only";
        }
    }
}
