using Datapath.Bypass;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Replay;
using Datapath.Tests.Support;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// The NAT scenarios of tests/data/captures/nat (their README and specs say what each frame does)
/// and one inline replay of a scenario: verdicts, frames per port and the connection table.
/// </summary>
internal static class NatCaptures
{
    /// <summary>The scenarios of captures/nat (nat.flows), or of captures/nat-extra (nat-extra.flows) with <paramref name="extra"/>.</summary>
    public static string Directory(bool extra = false) => TestData.Capture(extra ? "nat-extra" : "nat");

    public static IEnumerable<string> Names(bool extra = false) =>
        System.IO.Directory.EnumerateFiles(Path.Combine(Directory(extra), "specs"), "*.spec")
            .Select(Path.GetFileNameWithoutExtension)
            .Order(StringComparer.Ordinal)!;

    public static string Expected(string name, string suffix, bool extra = false) => Path.Combine(Directory(extra), "expected", $"{name}.{suffix}");

    public static OpenFlowTables Flows(bool extra = false)
    {
        string file = extra ? "nat-extra.flows" : "nat.flows";
        var tables = new OpenFlowTables();
        tables.AddFlows(File.ReadAllText(Path.Combine(Directory(extra), file)), file);
        return tables;
    }

    /// <summary>Replays one scenario inline, as Open vSwitch's oracle did (--time-warp: the capture's clock).</summary>
    public static NatReplay Replay(string name, string bypass = "off", uint natSeed = 1, bool extra = false)
    {
        var datapath = new InlineDatapath(
            new Translator(Flows(extra), new RecircRegistry(), [1, 2]),
            Defaults.PmdCoreOptions with { Bypass = BypassModes.TryParse(bypass, out var mode) ? mode : throw new ArgumentException(bypass, nameof(bypass)) },
            new Datapath.Conntrack.ConnectionTable(Defaults.ConntrackOptions with { NatSeed = natSeed }));
        var sent = new Dictionary<uint, List<byte[]>> { [1] = [], [2] = [] };
        var replay = new VerdictReplay(datapath)
        {
            OnTransmit = (port, frame, _) => sent[port].Add(frame.ToArray()),
        };
        using var reader = PcapReader.Open(Path.Combine(Directory(extra), name + ".pcap"));
        var verdicts = new StringWriter { NewLine = "\n" };
        replay.Run(reader, verdicts);
        var conntrack = datapath.Conntrack.Snapshot(nowMs: replay.ClockMs)
            .Select(e => Datapath.Conntrack.ConntrackFormatter.FormatEntry(e, replay.ClockMs))
            .Order(StringComparer.Ordinal)
            .ToList();
        return new NatReplay(verdicts.ToString(), sent[1], sent[2], conntrack, datapath);
    }
}

/// <summary>What one replay produced.</summary>
internal sealed record NatReplay(string Verdicts, List<byte[]> Port1, List<byte[]> Port2, List<string> Conntrack, InlineDatapath Datapath);
