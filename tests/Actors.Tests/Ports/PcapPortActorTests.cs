using Actors.PacketPath;
using System.Globalization;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>The pcap port on its own, on virtual time, with test probes playing the PMDs.</summary>
public sealed class PcapPortActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentBatchPool _batches = PathBatch.NewPool();
    private readonly string _dir = Directory.CreateTempSubdirectory("pcap-port-").FullName;

    // Packets the probe PMD took so far (AckAll).
    private long _acked;

    public PcapPortActorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    private static string UdpStream => TestData.Capture("udp-stream.pcap");

    [Fact]
    public void A_full_window_makes_the_port_wait_instead_of_dropping_and_an_ack_lets_it_go_on()
    {
        var pmd = CreateTestProbe();
        var port = Start(new PcapPortSettings { RxPath = UdpStream, InPort = 1, Ordering = PcapOrdering.Pipelined, Window = 1 }, pmd);

        port.Actor.Tell(StartTraffic.Instance);

        var first = pmd.ExpectMsg<PathBatch>();
        Assert.Equal(PacketBatch.MaxSize, first.Count);
        pmd.ExpectNoMsg(Quiet);
        var stats = Statistics(port.Actor);
        Assert.Equal(PacketBatch.MaxSize, stats[1].RxPackets);
        Assert.Equal(0, stats[1].RxDropped);

        port.Actor.Tell(new BatchTaken(0), pmd);

        var second = pmd.ExpectMsg<PathBatch>();
        Assert.Equal(PacketBatch.MaxSize, second.Count);
        pmd.ExpectNoMsg(Quiet);

        // Capture order, no frame lost between the batches.
        var capture = Frames(UdpStream);
        var sent = first.Packets.ToArray().Concat(second.Packets.ToArray()).Select(p => p.Data.ToArray()).ToList();
        Assert.Equal(capture.Take(2 * PacketBatch.MaxSize), sent);
    }

    [Fact]
    public void Causal_ordering_finishes_the_frames_of_one_port_before_the_first_frame_of_the_other()
    {
        // The in_port of each frame, from the verdicts Open vSwitch wrote for the capture.
        var ports = File.ReadLines(TestData.Capture(Path.Combine("expected", "udp-stream.verdict")))
            .Select(line => uint.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture))
            .ToList();
        var pmd = CreateTestProbe();
        var port = Start(new PcapPortSettings { RxPath = UdpStream, Window = Defaults.PortWindow }, pmd);

        port.Actor.Tell(StartTraffic.Instance);

        int next = 0;
        for (int run = 0; run < 8; run++)
        {
            int length = 1;
            while (ports[next + length] == ports[next])
            {
                length++;
            }

            var batch = pmd.ExpectMsg<PathBatch>();
            Assert.Equal(length, batch.Count);
            Assert.All(batch.Packets.ToArray(), p => Assert.Equal(ports[next], p.Metadata.InPort));
            var quiesce = pmd.ExpectMsg<Quiesce>();
            pmd.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
            port.Actor.Tell(new BatchTaken(0), pmd);
            port.Actor.Tell(new Quiesced(0, quiesce.Token), pmd);
            next += length;
        }
    }

    [Fact]
    public void A_file_that_is_not_a_pcap_is_reported_with_its_name()
    {
        string path = Path.Combine(_dir, "garbage.pcap");
        File.WriteAllText(path, "this is not a capture, just some text long enough");
        var port = Start(new PcapPortSettings { RxPath = path, Window = Defaults.PortWindow }, CreateTestProbe());

        port.Actor.Tell(StartTraffic.Instance);

        var failed = ExpectMsg<PortFailed>();
        Assert.Contains(path, failed.Reason, StringComparison.Ordinal);
        Assert.Contains("magic", failed.Reason, StringComparison.Ordinal);
        var e = Assert.Throws<PcapFormatException>(() => new PcapPortSettings { RxPath = path, Window = Defaults.PortWindow }.Validate());
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void A_missing_file_is_reported_with_its_name()
    {
        string path = Path.Combine(_dir, "missing.pcap");
        var port = Start(new PcapPortSettings { RxPath = path, Window = Defaults.PortWindow }, CreateTestProbe());

        port.Actor.Tell(DrainAndReport.Instance);

        var failed = ExpectMsg<PortFailed>();
        Assert.Contains(path, failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_record_stops_the_input_after_the_frames_before_it_and_is_reported()
    {
        string path = Path.Combine(_dir, "truncated.pcap");
        long cut;
        using (var reader = PcapReader.Open(UdpStream))
        {
            PcapRecordHeader header;
            do
            {
                reader.TryReadNext(out header);
            }
            while (header.RecordNumber < 6);

            cut = header.Offset + PcapFormat.RecordHeaderLength + 10;
        }

        File.WriteAllBytes(path, File.ReadAllBytes(UdpStream).AsSpan(0, (int)cut).ToArray());
        var pmd = CreateTestProbe();
        var port = Start(new PcapPortSettings { RxPath = path, InPort = 1, Ordering = PcapOrdering.Pipelined, Window = Defaults.PortWindow }, pmd);

        port.Actor.Tell(StartTraffic.Instance);

        Assert.Equal(5, pmd.ExpectMsg<PathBatch>().Count);
        port.Actor.Tell(DrainAndReport.Instance);
        var failed = ExpectMsg<PortFailed>();
        Assert.Contains(path, failed.Reason, StringComparison.Ordinal);
        Assert.Contains("record 6", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("truncated", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(5, Statistics(port.Actor)[1].RxPackets);
    }

    [Fact]
    public void A_looping_capture_starts_again_with_the_clock_moving_on_and_drains_when_asked()
    {
        string capture = TestData.Capture("udp-dns.pcap");
        int frames = Frames(capture).Count;
        var pmd = CreateTestProbe();
        var port = Start(new PcapPortSettings { RxPath = capture, InPort = 1, Ordering = PcapOrdering.Pipelined, Loop = true, Window = Defaults.PortWindow }, pmd);

        port.Actor.Tell(StartTraffic.Instance);

        // Until the PMD has had three passes' frames: with its window the port may finish reading
        // passes before their batches arrive (it once reported three passes before the first ack).
        var times = new List<long>();
        while (Statistics(port.Actor).Pcap!.PassesCompleted < 3 || _acked < 3 * frames)
        {
            times.AddRange(AckAll(pmd));
        }

        port.Actor.Tell(DrainAndReport.Instance, TestActor);
        var quiesce = pmd.FishForMessage<Quiesce>(m => m is Quiesce, hint: "drain");
        port.Actor.Tell(new Quiesced(0, quiesce.Token), pmd);
        var drained = ExpectMsg<PortDrained>();

        Assert.True(drained.Statistics[1].RxPackets >= 3 * frames);
        Assert.Equal(times.Order(), times);
        var capturedSpan = ClockSpanMs(capture);
        Assert.True(times[^1] - times[0] >= 2 * capturedSpan, "the clock went back on a new pass");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Directory.Delete(_dir, recursive: true);
    }

    private static List<byte[]> Frames(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        var frames = new List<byte[]>();
        while (reader.TryReadNext(out _))
        {
            frames.Add(reader.CurrentFrame.ToArray());
        }

        return frames;
    }

    private static long ClockSpanMs(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        long first = -1, last = 0;
        while (reader.TryReadNext(out var header))
        {
            first = first < 0 ? header.TimestampNs : first;
            last = header.TimestampNs;
        }

        return (last - first) / 1_000_000;
    }

    private PortHandle Start(PcapPortSettings settings, TestProbe pmd) =>
        PcapPortActor.Start(Sys, settings, [pmd.Ref], _batches);

    private PortActorStatistics Statistics(IActorRef port)
    {
        port.Tell(GetPortStatistics.Instance, TestActor);
        return ExpectMsg<PortActorStatistics>();
    }

    /// <summary>Acks and recycles every batch the probe holds; returns their clocks.</summary>
    private List<long> AckAll(TestProbe pmd)
    {
        var times = new List<long>();
        while (pmd.HasMessages)
        {
            var message = pmd.ExpectMsg<PathBatch>();
            times.Add(message.ClockMs);
            _acked += message.Count;
            foreach (var packet in message.Packets)
            {
                packet.Pool!.Return(packet);
            }

            _batches.Return(message);
            pmd.LastSender.Tell(new BatchTaken(0), pmd);
        }

        return times;
    }
}
