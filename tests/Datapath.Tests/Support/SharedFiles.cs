namespace Datapath.Tests.Support;

/// <summary>
/// Locates ../shared beside the repository (the captures and Open vSwitch's expected answers).
/// A missing folder fails the test loudly: CI always lays it beside the checkout.
/// </summary>
public static class SharedFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string SharedDir => Root.Value;

    public static string Captures => Path.Combine(SharedDir, "captures");

    public static string Capture(string name) => Path.Combine(Captures, name);

    public static IEnumerable<string> AllCapturePcaps() =>
        Directory.EnumerateFiles(Captures, "*.pcap").Order(StringComparer.Ordinal);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            {
                string shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
                if (Directory.Exists(Path.Combine(shared, "captures")))
                {
                    return shared;
                }

                throw new DirectoryNotFoundException($"Expected the shared folder with captures at {shared}.");
            }
        }

        throw new DirectoryNotFoundException($"No Actors.sln above {AppContext.BaseDirectory}.");
    }
}
