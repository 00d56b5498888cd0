using System.CommandLine;
using System.Globalization;
using System.Text;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Replay;

namespace Host.Commands;

/// <summary>
/// `parse-pcap FILE`: the flow key of every frame, one line each, in the datapath-flow syntax of
/// `ovs-appctl dpctl/dump-flows` (the analogue of `ovs-ofctl ofp-parse-pcap`). Frames are given
/// in_port 1 or 2 by source MAC as in the replay contract (02:00:00:00:00:01 / :02), else 0.
/// Malformed frames print what was extracted and the reasons are summed at the end.
/// </summary>
internal static class ParsePcapCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A classic pcap file (Ethernet link type)." };
        var command = new Command("parse-pcap", "Print each frame's flow key in dpctl/dump-flows syntax.") { file };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(FileInfo file, TextWriter output, TextWriter error)
    {
        try
        {
            using var reader = PcapReader.Open(file.FullName);
            var packet = new Packet();
            var stats = new ExtractionStats();
            var key = default(FlowKey);
            var line = new StringBuilder();
            while (reader.TryReadNext(out var header))
            {
                packet.SetFrame(reader.CurrentFrame, ReplayPorts.BySourceMac(reader.CurrentFrame));
                FlowExtractor.Extract(packet, ref key, stats);
                line.Clear();
                line.Append(CultureInfo.InvariantCulture, $"{header.RecordNumber}: ");
                FlowFormatter.FormatExact(line, in key);
                output.WriteLine(line.ToString());
            }

            foreach (var reason in Enum.GetValues<MalformedReason>())
            {
                if (stats[reason] > 0)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"malformed: {reason}: {stats[reason]}"));
                }
            }

            return 0;
        }
        catch (PcapFormatException e)
        {
            error.WriteLine("parse-pcap: " + e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine("parse-pcap: " + FileErrors.Describe(file.ToString(), e));
            return 1;
        }
    }
}
