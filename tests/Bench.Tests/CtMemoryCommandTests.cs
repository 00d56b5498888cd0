using System.Text.Json;

namespace Bench.Tests;

/// <summary>
/// ct-memory measures the whole process's heap, so its test runs alone (its collection disables
/// parallelization): the figures themselves are the command's output, not asserted here beyond
/// what must hold whatever the machine (a translated connection has a second slot; only two
/// tables reserve reply tuples for each other).
/// </summary>
[Collection(HeapMeasurement.Name)]
public sealed class CtMemoryCommandTests
{
    [Fact]
    public void Each_cell_holds_its_connections_and_a_translated_connection_costs_more_than_a_plain_one()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = Program.Run(["ct-memory", "--connections", "3000", "--json"], output, error);

        Assert.True(exit == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var root = json.RootElement;
        Assert.True(root.GetProperty("bytes_per_slot").GetDouble() > 0);
        var cells = root.GetProperty("cells").EnumerateArray().ToDictionary(c => c.GetProperty("cell").GetString()!, c => c.Clone());
        Assert.Equal(["plain", "snat", "snat-2-shards"], cells.Keys);
        Assert.All(cells.Values, c => Assert.Equal(3000, c.GetProperty("connections").GetInt32()));
        Assert.True(cells["snat"].GetProperty("bytes_per_connection").GetDouble() > cells["plain"].GetProperty("bytes_per_connection").GetDouble());
        Assert.Equal(0, cells["plain"].GetProperty("reserved_elsewhere").GetInt32());
        Assert.Equal(0, cells["snat"].GetProperty("reserved_elsewhere").GetInt32());
        Assert.InRange(cells["snat-2-shards"].GetProperty("reserved_elsewhere").GetInt32(), 1, 2999);
    }

    [Fact]
    public void Out_of_range_connection_counts_are_refused()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, Program.Run(["ct-memory", "--connections", "0"], output, error));
        Assert.StartsWith("ct-memory: ", error.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>Tests that measure the whole process's heap: never run beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    public const string Name = "heap measurement";
}
