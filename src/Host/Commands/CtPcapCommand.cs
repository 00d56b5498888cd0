using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Host.Configuration;

namespace Host.Commands;

/// <summary>
/// `ct-pcap FILE [BATCH]`: every frame of a capture through conntrack alone (zone 0, commit, BATCH
/// frames per call, default 1), one line per frame `N: flags`, exactly as Open vSwitch's
/// `ovstest test-conntrack pcap FILE BATCH` prints them. Time is the wall clock in milliseconds,
/// read once per batch, as test-conntrack's time_msec(). IP fragments: see <see cref="ConntrackReplay"/>.
/// </summary>
internal static class CtPcapCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A classic pcap file (Ethernet link type)." };
        var batch = new Argument<int>("BATCH")
        {
            Description = "Frames per conntrack call, 1 to 32.",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("ct-pcap", "Print each frame's ct_state after conntrack (zone 0, commit), as ovstest test-conntrack pcap.") { file, batch };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(batch), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(FileInfo file, int batchSize, TextWriter output, TextWriter error)
    {
        if (batchSize is < 1 or > PacketBatch.MaxSize)
        {
            error.WriteLine($"ct-pcap: batch_size must be between 1 and {PacketBatch.MaxSize}");
            return 1;
        }

        try
        {
            using var reader = PcapReader.Open(file.FullName);
            var clock = Stopwatch.StartNew();
            // One table with the embedded default's limits and timeouts (Open vSwitch's, as its test-conntrack has them).
            var table = new ConnectionTable(DatapathSettings.Embedded().Conntrack.SingleTableOptions());
            var replay = new ConntrackReplay(() => clock.ElapsedMilliseconds, table);
            var line = new StringBuilder();
            replay.Run(reader, batchSize, (number, state) =>
            {
                line.Clear();
                line.Append(CultureInfo.InvariantCulture, $"{number}: ");
                ConntrackFormatter.AppendState(line, state);
                output.WriteLine(line.ToString());
            });
            return 0;
        }
        catch (PcapFormatException e)
        {
            error.WriteLine("ct-pcap: " + e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine("ct-pcap: " + FileErrors.Describe(file.ToString(), e));
            return 1;
        }
    }
}
