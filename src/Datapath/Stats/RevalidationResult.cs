namespace Datapath.Stats;

/// <summary>What one revalidation pass did to a PMD's megaflows.</summary>
/// <param name="Checked">Megaflows judged by the slow path (every one not expired as idle).</param>
/// <param name="Kept">Megaflows left installed.</param>
/// <param name="RemovedChanged">Megaflows removed because they would no longer translate the same.</param>
/// <param name="RemovedIdle">Megaflows removed because no packet used them for the idle time.</param>
public readonly record struct RevalidationResult(int Checked, int Kept, int RemovedChanged, int RemovedIdle)
{
    public int Removed => RemovedChanged + RemovedIdle;
}
