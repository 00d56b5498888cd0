namespace Datapath.Tests.Support;

/// <summary>
/// Locates the test data kept in the repository (tests/data: the captures and Open vSwitch's
/// expected answers; tests/data/README.md says where each came from), so a clone needs nothing beside it.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string> Location = new(FindRoot);

    public static string Root => Location.Value;

    public static string Captures => Path.Combine(Root, "captures");

    public static string Capture(string name) => Path.Combine(Captures, name);

    public static IEnumerable<string> AllCapturePcaps() =>
        Directory.EnumerateFiles(Captures, "*.pcap").Order(StringComparer.Ordinal);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            {
                string data = Path.Combine(dir.FullName, "tests", "data");
                if (Directory.Exists(Path.Combine(data, "captures")))
                {
                    return data;
                }

                throw new DirectoryNotFoundException($"Expected the test data with captures at {data}.");
            }
        }

        throw new DirectoryNotFoundException($"No Actors.sln above {AppContext.BaseDirectory}.");
    }
}
