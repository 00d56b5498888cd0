using Actors.Ports;
using Datapath.Packets.Pcap;
using Datapath.Replay;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>The capture side of the pcap port (reading, passes, clock, ports), without an actor system.</summary>
public sealed class PcapInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pcap-input-").FullName;

    private static string UdpDns => TestData.Capture("udp-dns.pcap");

    [Fact]
    public void Every_frame_comes_in_capture_order_with_its_port_by_source_mac_then_the_input_ends()
    {
        var capture = Records(UdpDns);
        using var input = Open(new PcapPortSettings { RxPath = UdpDns, Window = Defaults.PortWindow });

        var read = new List<(byte[] Frame, uint Port)>();
        while (input.TryRead() == PcapRead.Frame)
        {
            read.Add((input.Frame.ToArray(), (uint)input.PortIndex + 1));
            input.Consume();
        }

        Assert.Equal(capture.Select(r => Convert.ToHexString(r.Frame)), read.Select(r => Convert.ToHexString(r.Frame)));
        Assert.Equal(capture.Select(r => ReplayPorts.BySourceMac(r.Frame)), read.Select(r => r.Port));
        Assert.Equal(PcapRead.End, input.TryRead());
        Assert.Equal(new PcapProgress(capture.Count, 0, 1, true), input.Progress);
        Assert.Equal(capture[^1].TimeNs, input.ClockNs);
    }

    [Fact]
    public void A_frame_stays_in_hand_until_it_is_consumed()
    {
        using var input = Open(new PcapPortSettings { RxPath = UdpDns, Window = Defaults.PortWindow });

        Assert.Equal(PcapRead.Frame, input.TryRead());
        byte[] first = input.Frame.ToArray();
        Assert.Equal(PcapRead.Frame, input.TryRead());

        Assert.Equal(first, input.Frame.ToArray());
        Assert.Equal(1, input.Progress.FramesRead);
        input.Consume();
        input.TryRead();
        Assert.Equal(2, input.Progress.FramesRead);
    }

    [Fact]
    public void Frames_of_a_port_the_actor_does_not_serve_are_skipped_and_counted()
    {
        var capture = Records(UdpDns);
        int toPort2 = capture.Count(r => ReplayPorts.BySourceMac(r.Frame) == 2);
        Assert.InRange(toPort2, 1, capture.Count - 1);
        using var input = new PcapInput(new PcapPortSettings { RxPath = UdpDns, Window = Defaults.PortWindow }, [1]);
        Assert.True(input.Open());

        int frames = 0;
        for (; input.TryRead() == PcapRead.Frame; frames++)
        {
            Assert.Equal(0, input.PortIndex);
            input.Consume();
        }

        Assert.Equal(capture.Count - toPort2, frames);
        Assert.Equal(toPort2, input.Progress.FramesSkipped);
    }

    [Fact]
    public void A_looping_capture_starts_again_with_the_clock_moving_on()
    {
        var capture = Records(UdpDns);
        using var input = Open(new PcapPortSettings { RxPath = UdpDns, InPort = 1, Loop = true, Window = Defaults.PortWindow });

        var clocks = new List<long>();
        for (int i = 0; i < 3 * capture.Count; i++)
        {
            Assert.Equal(PcapRead.Frame, input.TryRead());
            clocks.Add(input.ClockNs);
            input.Consume();
        }

        Assert.Equal(clocks.Order(), clocks);
        Assert.Equal(2, input.Progress.PassesCompleted);
        Assert.False(input.Progress.InputDone);
        long span = capture[^1].TimeNs - capture[0].TimeNs;
        Assert.True(clocks[^1] - clocks[0] >= 2 * span, "the clock went back on a new pass");
        Assert.True(clocks[capture.Count] > clocks[capture.Count - 1], "a new pass does not start after the last frame");
    }

    [Fact]
    public void A_missing_capture_fails_naming_the_file()
    {
        string path = Path.Combine(_dir, "missing.pcap");
        using var input = new PcapInput(new PcapPortSettings { RxPath = path, Window = Defaults.PortWindow }, [1, 2]);

        Assert.False(input.Open());

        Assert.Contains(path, input.Failure, StringComparison.Ordinal);
        Assert.Equal(PcapRead.Failed, input.TryRead());
    }

    [Fact]
    public void A_truncated_record_fails_after_the_frames_before_it_naming_the_record()
    {
        string path = Path.Combine(_dir, "truncated.pcap");
        byte[] whole = File.ReadAllBytes(UdpDns);
        long cut;
        using (var reader = PcapReader.Open(UdpDns))
        {
            PcapRecordHeader header;
            do
            {
                reader.TryReadNext(out header);
            }
            while (header.RecordNumber < 4);

            cut = header.Offset + PcapFormat.RecordHeaderLength + 10;
        }

        File.WriteAllBytes(path, whole.AsSpan(0, (int)cut).ToArray());
        using var input = Open(new PcapPortSettings { RxPath = path, InPort = 1, Window = Defaults.PortWindow });

        int frames = 0;
        for (; input.TryRead() == PcapRead.Frame; frames++)
        {
            input.Consume();
        }

        Assert.Equal(3, frames);
        Assert.Equal(PcapRead.Failed, input.TryRead());
        Assert.Contains(path, input.Failure, StringComparison.Ordinal);
        Assert.Contains("record 4", input.Failure, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PcapInput Open(PcapPortSettings settings)
    {
        var input = new PcapInput(settings, settings.Ports);
        Assert.True(input.Open(), input.Failure);
        return input;
    }

    private static List<(byte[] Frame, long TimeNs)> Records(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        var records = new List<(byte[], long)>();
        while (reader.TryReadNext(out var header))
        {
            records.Add((reader.CurrentFrame.ToArray(), header.TimestampNs));
        }

        return records;
    }
}
