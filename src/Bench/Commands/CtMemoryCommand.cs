using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bench.CtMemory;
using Bench.Firewall;
using Host.Configuration;
using Spectre.Console;

namespace Bench.Commands;

/// <summary>
/// `ct-memory`: bytes per established connection of the connection table, plain and with SNAT
/// (<see cref="ConntrackMemory"/>), as the managed heap's growth; a table or one JSON object.
/// </summary>
internal static class CtMemoryCommand
{
    /// <summary>Enough to show the per-connection cost, few enough to stay quick (a million connections: about a second per cell).</summary>
    public const int MaxConnections = 1_000_000;

    private const int SlotProbe = 1 << 17;

    public static Command Create()
    {
        var connections = new Option<int>("--connections") { Description = "Established UDP connections per cell.", DefaultValueFactory = _ => 100_000 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var command = new Command("ct-memory", "Measure the connection table's heap per established connection, plain and with SNAT.")
        {
            connections, json,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            int count = parse.GetValue(connections);
            if (count is < 1 or > MaxConnections)
            {
                error.WriteLine($"ct-memory: --connections must be 1 to {MaxConnections}");
                return 2;
            }

            try
            {
                var options = DatapathSettings.Embedded().Conntrack.SingleTableOptions();
                double perSlot = ConntrackMemory.BytesPerSlot(SlotProbe, options);
                var results = ConntrackMemory.Cells.Select(cell => ConntrackMemory.Measure(cell, count, options)).ToList();
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new { connections = count, bytes_per_slot = perSlot, cells = results }, BenchReport.Json));
                    return 0;
                }

                var c = CultureInfo.InvariantCulture;
                var table = new Table().Title(string.Create(c, $"ct-memory: {count} established UDP connections per cell; an empty table costs {perSlot:F1} B per slot"));
                foreach (var column in new[] { "cell", "heap bytes", "bytes per connection", "reply tuples reserved in another table" })
                {
                    table.AddColumn(new TableColumn(column).RightAligned());
                }

                foreach (var r in results)
                {
                    table.AddRow(BenchReport.Cells(r.Cell, r.HeapBytes, r.BytesPerConnection.ToString("F1", c), r.ReservedElsewhere));
                }

                BenchReport.Console(output).Write(table);
                return 0;
            }
            catch (InvalidOperationException e)
            {
                error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }
}
