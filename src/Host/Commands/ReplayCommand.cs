using System.CommandLine;
using Actors.Configuration;
using Datapath.OpenFlow.Translation;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Replay;

namespace Host.Commands;

/// <summary>
/// `replay FILE [--flows FLOWFILE]`: runs a capture through the whole datapath (EMC, megaflows,
/// upcalls to the OpenFlow tables, conntrack, recirculation) on ports 1 and 2 assigned by source
/// MAC, frame by frame on the capture's clock, and prints one verdict per frame in the format of
/// captures/expected/*.verdict. The default flow table is the embedded firewall (hocon/firewall.flows).
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A classic pcap file (Ethernet link type)." };
        var flows = new Option<FileInfo?>("--flows") { Description = "Flows in ovs-ofctl add-flows syntax (default: the embedded firewall)." };
        var emcInsert = new Option<int>("--emc-insert-inv-prob") { Description = "One EMC insertion per N megaflow hits (1 = always, 0 = never).", DefaultValueFactory = _ => 100 };
        var command = new Command("replay", "Replay a capture through the datapath and print a verdict per frame.") { file, flows, emcInsert };
        command.SetAction(parse => Run(
            parse.GetValue(file)!, parse.GetValue(flows), parse.GetValue(emcInsert), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(FileInfo file, FileInfo? flows, int emcInsertInvProb, TextWriter output, TextWriter error)
    {
        bool loaded = flows is null
            ? DumpFlowsCommand.TryLoad(DatapathConfig.EmbeddedFirewallFlows(), DatapathConfig.EmbeddedFlowsName, error, out var tables)
            : DumpFlowsCommand.TryLoad(flows, error, "replay", out tables);
        if (!loaded)
        {
            return 1;
        }

        if (emcInsertInvProb < 0)
        {
            error.WriteLine("replay: --emc-insert-inv-prob must be 0 or more");
            return 2;
        }

        try
        {
            using var reader = PcapReader.Open(file.FullName);
            var translator = new Translator(tables, new RecircRegistry(), [1, 2]);
            var datapath = new InlineDatapath(translator, new PmdCoreOptions { EmcInsertInvProb = emcInsertInvProb });
            new VerdictReplay(datapath).Run(reader, output);
            return 0;
        }
        catch (Exception e) when (e is PcapFormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine("replay: " + e.Message);
            return 1;
        }
    }
}
