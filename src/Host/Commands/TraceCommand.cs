using System.CommandLine;
using System.Globalization;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Trace;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;

namespace Host.Commands;

/// <summary>
/// `trace FLOWFILE FLOW [PACKET] [--ct-next FLAGS]...`: the analogue of `ovs-appctl ofproto/trace`.
/// FLOW is in ovs-ofctl match syntax (unspecified fields are zero); with PACKET (hex bytes of an
/// Ethernet frame) the headers come from the packet and only in_port from FLOW. Each --ct-next
/// gives the conntrack state assumed after the next ct(table=N) (default trk,new).
/// </summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FLOWFILE") { Description = "Flows in ovs-ofctl add-flows syntax." };
        var flow = new Argument<string>("FLOW") { Description = "The packet's flow in ovs-ofctl match syntax, e.g. in_port=1,tcp,nw_src=10.0.0.1." };
        var packet = new Argument<string?>("PACKET") { Description = "Optional Ethernet frame in hex.", Arity = ArgumentArity.ZeroOrOne };
        var ctNext = new Option<string[]>("--ct-next") { Description = "ct_state after the next conntrack, e.g. trk,est (repeatable).", AllowMultipleArgumentsPerToken = false };
        var ports = new Option<string>("--ports") { Description = "The bridge's ports, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var command = new Command("trace", "Show how a packet would cross the OpenFlow tables (ofproto/trace).") { file, flow, packet, ctNext, ports };
        command.SetAction(parse => Run(
            parse.GetValue(file)!, parse.GetValue(flow)!, parse.GetValue(packet), parse.GetValue(ctNext) ?? [], parse.GetValue(ports)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(FileInfo file, string flow, string? packetHex, string[] ctNext, string ports, TextWriter output, TextWriter error)
    {
        if (!DumpFlowsCommand.TryLoad(file, error, "trace", out var tables))
        {
            return 1;
        }

        try
        {
            var states = ctNext.Select(Tracer.ParseCtState).ToList();
            var portList = new List<uint>();
            foreach (string text in ports.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // OpenFlow's port numbers, as the flow syntax bounds output:N (OFPP_MAX is 0xff00).
                if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint port) || port is 0 or >= 0xff00)
                {
                    error.WriteLine($"trace: --ports: '{text}' is not a port number (1..65279)");
                    return 2;
                }

                if (portList.Contains(port))
                {
                    error.WriteLine($"trace: --ports: port {port} is given twice");
                    return 2;
                }

                portList.Add(port);
            }

            var key = Tracer.ParseFlow(flow);
            if (packetHex is not null)
            {
                uint inPort = key.InPort;
                CtState ct = key.CtState;
                key = Tracer.ParsePacket(packetHex, inPort);
                key.CtState = ct;
            }

            var tracer = new Tracer(new Translator(tables, new RecircRegistry(), portList.ToArray()));
            output.WriteLine(tracer.Trace(key, states));
            return 0;
        }
        catch (FlowSyntaxException e)
        {
            error.WriteLine("trace: bad flow: " + string.Join("; ", e.Errors.Select(x => $"column {x.Column}: {x.Message}")));
            return 1;
        }
        catch (FormatException e)
        {
            error.WriteLine("trace: " + e.Message);
            return 1;
        }
    }
}
