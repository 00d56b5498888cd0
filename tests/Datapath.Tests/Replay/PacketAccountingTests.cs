using Datapath.Bypass;
using Datapath.Conntrack;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Replay;
using Datapath.Tests.Conntrack.Nat;
using Datapath.Tests.Support;

namespace Datapath.Tests.Replay;

/// <summary>
/// Every packet received is sent or dropped for a named reason (or still held), as Open vSwitch
/// counts them (drop_action_of_pipeline for an explicit drop, an empty action list or a table
/// miss): over every capture of tests/data, with the verdicts as the independent count: a frame
/// whose verdict line says "drop" (and that released nothing) is one dropped packet, each port a
/// verdict lists is one copy.
/// </summary>
public sealed class PacketAccountingTests
{
    public static TheoryData<string, string> EveryCapture()
    {
        var data = new TheoryData<string, string>();
        foreach (string bypass in new[] { "off", "megaflow" })
        {
            foreach (var pcap in TestData.AllCapturePcaps())
            {
                data.Add(Path.GetFileName(pcap), bypass);
            }

            data.Add(Path.Combine("fragments", "ip-frag.pcap"), bypass);
            foreach (bool extra in new[] { false, true })
            {
                foreach (var name in NatCaptures.Names(extra))
                {
                    data.Add(Path.Combine(extra ? "nat-extra" : "nat", name + ".pcap"), bypass);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCapture))]
    public void Received_is_sent_plus_dropped_by_reason_on_every_capture(string capture, string bypass)
    {
        var tables = capture.StartsWith("nat-extra", StringComparison.Ordinal) ? NatCaptures.Flows(extra: true)
            : capture.StartsWith("nat", StringComparison.Ordinal) ? NatCaptures.Flows()
            : Firewall();
        var datapath = new InlineDatapath(
            new Translator(tables, new RecircRegistry(), [1, 2]),
            Defaults.PmdCoreOptions with { Bypass = BypassModes.TryParse(bypass, out var mode) ? mode : throw new ArgumentException(bypass, nameof(bypass)) },
            new ConnectionTable(Defaults.ConntrackOptions));
        var replay = new VerdictReplay(datapath);
        using var reader = PcapReader.Open(TestData.Capture(capture));
        var output = new StringWriter { NewLine = "\n" };
        long frames = replay.Run(reader, output);
        var verdicts = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.IndexOf("-> ", StringComparison.Ordinal) + 3)..]).ToList();

        var snapshot = datapath.Core.Snapshot();
        long received = snapshot.Pipeline.PacketsReceived;
        long dropped = snapshot.Drops.Values.Sum();
        Assert.Equal(frames - replay.Skipped, received);
        Assert.True(
            received == snapshot.PacketsSent + dropped + snapshot.PacketsHeld,
            $"received {received} != sent {snapshot.PacketsSent} + dropped {dropped} ({string.Join(", ", snapshot.Drops.Where(d => d.Value > 0))}) + held {snapshot.PacketsHeld}");
        Assert.Equal(verdicts.Where(v => v is not "drop" and not "skipped").Sum(v => v.Split(',').Length), snapshot.Outputs);

        // Each pass is found in exactly one place (the progress line's shares add up to all of them).
        var p = snapshot.Pipeline;
        Assert.Equal(p.PacketsReceived + p.Recirculations, p.EmcHits + p.MegaflowHits + p.BypassHits + p.UpcallsOk + p.UpcallsFailed);
        if (!capture.StartsWith("fragments", StringComparison.Ordinal))
        {
            // No fragments: each frame is one packet, its verdict its fate.
            Assert.Equal(verdicts.Count(v => v == "drop"), dropped);
            Assert.Equal(verdicts.Count(v => v is not "drop" and not "skipped"), snapshot.PacketsSent);
            Assert.Equal(0, snapshot.PacketsHeld);
        }
    }

    [Fact]
    public void A_table_miss_an_action_list_without_output_and_an_explicit_drop_are_each_counted_as_a_drop_action()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(
            """
            table=0, priority=10, udp actions=drop
            table=0, priority=10, icmp actions=load:1->NXM_NX_REG0[]
            table=0, priority=10, arp actions=resubmit(,1)
            table=0, priority=5, tcp actions=output:2,in_port
            """,
            "drops.flows");
        var datapath = new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2]), Defaults.PmdCoreOptions, new ConnectionTable(Defaults.ConntrackOptions));
        var sink = new CountingSink();
        var batch = new Datapath.Packets.PacketBatch();
        foreach (var frame in new[]
        {
            TestSupport.Frames.Frame.Ip("10.0.0.1", "10.0.0.2").Udp(1, 2).Build(),
            TestSupport.Frames.Frame.Ip("10.0.0.1", "10.0.0.2").IcmpEcho(8, 1).Build(),
            TestSupport.Frames.Frame.Ethernet().Arp(1, "02:00:00:00:00:01", "10.0.0.1", "00:00:00:00:00:00", "10.0.0.2").Build(),
            TestSupport.Frames.Frame.Ip("10.0.0.1", "10.0.0.2").Tcp(1, 2).Build(),
        })
        {
            Assert.True(datapath.TryReceive(frame, 1, out var packet));
            batch.Add(packet);
            datapath.Process(batch, 1, sink);
        }

        var snapshot = datapath.Core.Snapshot();
        Assert.Equal(4, snapshot.Pipeline.PacketsReceived);
        Assert.Equal(3, snapshot.Drops["drop action"]);
        Assert.Equal(1, snapshot.PacketsSent);
        Assert.Equal(2, snapshot.Outputs);
        Assert.Equal(2, sink.Count);
    }

    [Fact]
    public void A_flooded_packet_is_one_packet_sent_and_its_copies_are_counted_apart()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows("table=0, actions=FLOOD\n", "flood.flows");
        var datapath = new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2, 3, 4]), Defaults.PmdCoreOptions, new ConnectionTable(Defaults.ConntrackOptions));
        var sink = new CountingSink();
        var batch = new Datapath.Packets.PacketBatch();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(datapath.TryReceive(TestSupport.Frames.Frame.Ip("10.0.0.1", "10.0.0.2").Udp(1, (ushort)(100 + i)).Build(), 1, out var packet));
            batch.Add(packet);
        }

        datapath.Process(batch, 1, sink);

        var snapshot = datapath.Core.Snapshot();
        Assert.Equal(5, snapshot.Pipeline.PacketsReceived);
        Assert.Equal(5, snapshot.PacketsSent);
        Assert.Equal(15, snapshot.Outputs);
        Assert.Equal(15, sink.Count);
        Assert.Equal(0, snapshot.Drops.Values.Sum());
    }

    private static OpenFlowTables Firewall()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        return tables;
    }

    private sealed class CountingSink : IPacketSink
    {
        public int Count { get; private set; }

        public void Transmit(uint port, Datapath.Packets.Packet packet) => Count++;
    }
}
