using System.Globalization;
using System.Text.Json;
using Actors.Node;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Host.MainJob;

/// <summary>The main job's words: the progress line while it runs and the summary after (Spectre.Console tables).</summary>
internal static class JobReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>One progress line: the last interval's rate, where its passes found their flow (EMC, megaflow, bypass flow: with the upcalls, every pass), its upcalls and drops.</summary>
    public static string ProgressLine(JobProgress interval) => string.Create(
        C,
        $"{interval.Elapsed.TotalSeconds,5:F1}s  {Mpps(interval.Packets, interval.IntervalSeconds),6:F2} Mpps  emc {Percent(interval.EmcHits, interval.Passes),5:F1}%  megaflow {Percent(interval.MegaflowHits, interval.Passes),5:F1}%  bypass {Percent(interval.BypassHits, interval.Passes),5:F1}%  upcalls {interval.Upcalls}  drops {interval.Drops}");

    /// <summary>The summary tables, written to <paramref name="output"/> (plain text when it is not a terminal).</summary>
    public static void Write(JobResult result, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 160;
        var s = result.Settings;
        var g = s.Generator.Profile;
        double seconds = result.Elapsed.TotalSeconds;
        long received = result.Pmds.Sum(p => p.Pipeline.PacketsReceived);
        string traffic = s.Pcap is { } pcap
            ? $"pcap ports reading {pcap.RxPath}{(pcap.Loop ? " in a loop" : string.Empty)}"
            : s.SystemPorts is { } system
            ? $"system ports 1 = {system.Port1}, 2 = {system.Port2}"
            : string.Create(C, $"{g.Connections} connections ({g.TcpPercent}% TCP, {g.UdpPercent}% UDP, {g.IcmpPercent}% ICMP), frames {g.FrameSize.Min}-{g.FrameSize.Max} bytes");
        console.WriteLine(string.Create(C, $"main job: {s.Pmds} PMD(s), {s.QueuesPerPort} queue(s) per port, {s.Conntrack.Shards} conntrack shard(s), {traffic}"));
        console.WriteLine(string.Create(C, $"throughput: {Mpps(received, seconds):F2} Mpps over {seconds:F1} s ({received} packets)"));
        console.WriteLine("packets: " + result.Ledger);
        if (result.PortFailure is not null)
        {
            console.WriteLine("port failure: " + result.PortFailure);
        }

        console.Write(PmdTable(result));
        console.Write(DropTable(result));
        console.Write(PortTable(result));
        if (result.Ports.Traffic is not null)
        {
            console.Write(TrafficTable(result));
        }
        output.WriteLine("flows (dump-flows):");
        output.Write(result.DumpFlows);
    }

    /// <summary>The summary as one JSON object (run --format json), for scripts: the same numbers as the tables.</summary>
    public static void WriteJson(JobResult result, TextWriter output)
    {
        var s = result.Settings;
        var ledger = result.Ledger;
        var summary = new
        {
            ElapsedSeconds = result.Elapsed.TotalSeconds,
            s.Pmds,
            s.QueuesPerPort,
            ConntrackShards = s.Conntrack.Shards,
            Packets = new { ledger.Received, ledger.Sent, ledger.Dropped, ledger.Held, ledger.Transmitted, ledger.ExtraCopies, ledger.ToController, ledger.Injected, ledger.Balances },
            Drops = ledger.Drops,
            Ports = result.Ports.Ports.Select(p => new
            {
                p.Port,
                p.RxPackets,
                p.RxBytes,
                p.TxPackets,
                p.TxBytes,
                p.RxDroppedOverload,
                p.RxDroppedPoolEmpty,
                p.RxDroppedTooLong,
                p.RxErrors,
                p.TxDroppedTooLong,
                p.TxErrors,
            }),
            PmdStats = result.Pmds.Select(p => new
            {
                p.Pmd,
                CoreId = p.Cpu,
                p.Pipeline.PacketsReceived,
                p.Pipeline.Recirculations,
                p.Pipeline.EmcHits,
                p.Pipeline.MegaflowHits,
                p.Pipeline.BypassHits,
                p.Pipeline.BypassInstalls,
                p.Pipeline.BypassRevocations,
                p.Pipeline.BypassGuardFallbacks,
                p.Pipeline.UpcallsOk,
                p.Pipeline.UpcallsFailed,
                Megaflows = p.MegaflowCount,
                p.ConntrackMessages,
                p.PacketsSent,
                p.PacketsDropped,
                p.PacketsHeld,
                p.Outputs,
                p.ExtraCopies,
                p.Drops,
                TransmitDrops = new { NoSuchPort = p.TransmitDropsNoPort, PoolEmpty = p.TransmitDropsPoolEmpty },
                p.Pipeline.ProcessingNs,
            }),
            Connections = result.Ports.Traffic is { } t
                ? new[] { ("tcp", t.Tcp), ("udp", t.Udp), ("icmp", t.Icmp) }.ToDictionary(x => x.Item1, x => new { x.Item2.Opened, x.Item2.Completed, x.Item2.Reset, x.Item2.TimedOut })
                : null,
            result.PortFailure,
        };
        output.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DictionaryKeyPolicy = null };

    private static Table PmdTable(JobResult result)
    {
        var table = new Table().Title("PMDs (pmd-stats-show)");
        foreach (var column in new[] { "pmd", "packets", "recirc", "emc hits", "megaflow hits", "bypass hits", "upcalls", "failed upcalls", "megaflows", "ct messages", "avg pkts/batch", "avg ns/pkt" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var pmd in result.Pmds)
        {
            var p = pmd.Pipeline;
            long passes = p.PacketsReceived + p.Recirculations;
            table.AddRow(Cells(
                pmd.Cpu is { } core ? $"{pmd.Pmd} (core_id {core})" : pmd.Pmd, p.PacketsReceived, p.Recirculations,
                $"{p.EmcHits} ({Percent(p.EmcHits, passes):F1}%)", $"{p.MegaflowHits} ({Percent(p.MegaflowHits, passes):F1}%)",
                $"{p.BypassHits} ({Percent(p.BypassHits, passes):F1}%)",
                p.UpcallsOk, p.UpcallsFailed, pmd.MegaflowCount, pmd.ConntrackMessages,
                (p.Batches == 0 ? 0 : (double)passes / p.Batches).ToString("F1", C),
                (p.PacketsReceived == 0 ? 0 : (double)p.ProcessingNs / p.PacketsReceived).ToString("F0", C)));
        }

        return table;
    }

    /// <summary>Every drop by its reason, where it happened: the ports' receive and transmit sides, each PMD's pipeline and transmit side; the total adds up with the sent and held to the received.</summary>
    private static Table DropTable(JobResult result)
    {
        var table = new Table().Title("drops by reason");
        table.AddColumn("reason");
        table.AddColumn(new TableColumn("ports").RightAligned());
        foreach (var pmd in result.Pmds)
        {
            table.AddColumn(new TableColumn("pmd " + pmd.Pmd.ToString(C)).RightAligned());
        }

        table.AddColumn(new TableColumn("total").RightAligned());
        var portLedger = PacketLedger.From([], result.Ports.Ports).Drops;
        var pmdLedgers = result.Pmds.Select(p => PacketLedger.From([p], []).Drops).ToList();
        foreach (var (reason, total) in result.Ledger.Drops)
        {
            var cells = new List<IRenderable> { new Text(reason), new Text(portLedger.GetValueOrDefault(reason).ToString(C)) };
            cells.AddRange(pmdLedgers.Select(d => (IRenderable)new Text(d.GetValueOrDefault(reason).ToString(C))));
            cells.Add(new Text(total.ToString(C)));
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    private static Table PortTable(JobResult result)
    {
        var table = new Table().Title("ports (dump-ports)");
        string[] interfaceColumns = ["rx drop: too long", "rx errors", "tx drop: too long", "tx errors"];
        bool interfaces = result.Settings.SystemPorts is not null;
        foreach (var column in new[] { "port", "rx pkts", "rx bytes", "tx pkts", "tx bytes", "rx drop: overload", "rx drop: pool empty" }.Concat(interfaces ? interfaceColumns : []))
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var port in result.Ports.Ports)
        {
            object[] cells = [port.Port, port.RxPackets, port.RxBytes, port.TxPackets, port.TxBytes, port.RxDroppedOverload, port.RxDroppedPoolEmpty];
            table.AddRow(Cells(interfaces ? [.. cells, port.RxDroppedTooLong, port.RxErrors, port.TxDroppedTooLong, port.TxErrors] : cells));
        }

        return table;
    }

    private static Table TrafficTable(JobResult result)
    {
        var table = new Table().Title("connections (generator)");
        foreach (var column in new[] { "protocol", "opened", "completed", "reset", "timed out" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        if (result.Ports.Traffic is { } t)
        {
            foreach (var (name, counts) in new[] { ("tcp", t.Tcp), ("udp", t.Udp), ("icmp", t.Icmp) })
            {
                table.AddRow(Cells(name, counts.Opened, counts.Completed, counts.Reset, counts.TimedOut));
            }
        }

        return table;
    }

    private static IRenderable[] Cells(params object[] values) =>
        values.Select(v => (IRenderable)new Text(Convert.ToString(v, C) ?? string.Empty)).ToArray();

    private static double Mpps(long packets, double seconds) => seconds <= 0 ? 0 : packets / seconds / 1e6;

    private static double Percent(long part, long whole) => whole == 0 ? 0 : 100.0 * part / whole;
}
