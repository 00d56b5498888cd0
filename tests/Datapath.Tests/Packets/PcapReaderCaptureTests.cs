using System.Text.RegularExpressions;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Datapath.Tests.Packets;

/// <summary>The reader against the real captures: counts from the captures' README, bytes from the file sizes.</summary>
public sealed partial class PcapReaderCaptureTests
{
    public static TheoryData<string> CaptureNames()
    {
        var data = new TheoryData<string>();
        foreach (string path in TestData.AllCapturePcaps())
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Fact]
    public void The_readme_table_lists_every_capture_and_the_table_values_match_the_sizes_on_disk()
    {
        var table = ReadmeTable();
        var onDisk = TestData.AllCapturePcaps().Select(Path.GetFileName).ToHashSet();

        Assert.Equal(onDisk.Order(), table.Keys.Order());
        foreach (var (name, (_, bytes)) in table)
        {
            Assert.Equal(bytes, new FileInfo(TestData.Capture(name)).Length);
        }

        // A few counts quoted in the task that set this contract.
        Assert.Equal(136, table["tcp-http.pcap"].Packets);
        Assert.Equal(4002, table["udp-stream.pcap"].Packets);
    }

    [Theory]
    [MemberData(nameof(CaptureNames))]
    public void Every_capture_reads_to_the_readme_packet_count_with_all_bytes_accounted_for(string name)
    {
        string path = TestData.Capture(name);
        var (count, totalBytes) = ReadAll(path);

        Assert.Equal(ReadmeTable()[name].Packets, count);
        Assert.Equal(new FileInfo(path).Length - PcapFormat.GlobalHeaderLength - (PcapFormat.RecordHeaderLength * count), totalBytes);
    }

    [Fact]
    public void The_fragment_capture_reads_one_record_per_line_of_open_vswitch_conntrack_output()
    {
        string path = Path.Combine(TestData.Captures, "fragments", "ip-frag.pcap");
        int expected = File.ReadAllLines(Path.Combine(TestData.Captures, "fragments", "ovs-expected", "ip-frag.ct"))
            .Count(l => l.Length > 0);

        var (count, totalBytes) = ReadAll(path);

        Assert.Equal(expected, count);
        Assert.Equal(new FileInfo(path).Length - PcapFormat.GlobalHeaderLength - (PcapFormat.RecordHeaderLength * count), totalBytes);
    }

    [Fact]
    public void Real_capture_headers_are_ethernet_microsecond_and_records_are_numbered_and_untruncated()
    {
        using var reader = PcapReader.Open(TestData.Capture("icmp.pcap"));
        Assert.Equal(PcapResolution.Microseconds, reader.Resolution);
        Assert.Equal(PcapFormat.LinkTypeEthernet, reader.LinkType);
        Assert.Equal(65535u, reader.SnapLength);

        long expectedOffset = PcapFormat.GlobalHeaderLength;
        long previous = 0;
        var packet = new Packet();
        while (reader.TryReadNext(packet, inPort: 7, out var header))
        {
            Assert.Equal(reader.RecordsRead, header.RecordNumber);
            Assert.Equal(expectedOffset, header.Offset);
            Assert.Equal(header.CapturedLength, header.OriginalLength);
            Assert.Equal(header.CapturedLength, packet.Length);
            Assert.Equal(7u, packet.Metadata.InPort);
            Assert.True(header.TimestampNs % 1000 == 0, "microsecond file timestamps are whole microseconds");
            Assert.True(header.TimestampNs >= previous, "one interface's capture is in time order");
            previous = header.TimestampNs;
            expectedOffset += PcapFormat.RecordHeaderLength + header.CapturedLength;
        }

        Assert.Equal(new FileInfo(TestData.Capture("icmp.pcap")).Length, expectedOffset);
    }

    [Fact]
    public void The_first_frame_of_a_capture_is_the_readme_arp_request_from_h1()
    {
        using var reader = PcapReader.Open(TestData.Capture("tcp-http.pcap"));
        Assert.True(reader.TryReadNext(out _));
        var frame = reader.CurrentFrame;

        Assert.Equal(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, frame[..6].ToArray());
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0, 0x01 }, frame[6..12].ToArray());
        Assert.Equal(new byte[] { 0x08, 0x06 }, frame[12..14].ToArray());
    }

    [Fact]
    public void Reading_records_after_the_first_allocates_nothing()
    {
        using var reader = PcapReader.Open(TestData.Capture("tcp-long.pcap"));
        var packet = new Packet();
        Assert.True(reader.TryReadNext(packet, 1, out _));
        Assert.True(reader.TryReadNext(out _));

        int records = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        while (reader.TryReadNext(packet, 1, out _))
        {
            records++;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(910, records);
        Assert.Equal(0, allocated);
    }

    private static (int Count, long Bytes) ReadAll(string path)
    {
        using var reader = PcapReader.Open(path);
        int count = 0;
        long bytes = 0;
        while (reader.TryReadNext(out var header))
        {
            count++;
            bytes += header.CapturedLength;
            Assert.Equal(header.CapturedLength, reader.CurrentFrame.Length);
        }

        return (count, bytes);
    }

    private static Dictionary<string, (int Packets, long Bytes)> ReadmeTable()
    {
        var table = new Dictionary<string, (int, long)>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(TestData.Captures, "README.md")))
        {
            var m = TableRow().Match(line);
            if (m.Success)
            {
                table[m.Groups[1].Value] = (int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return table;
    }

    [GeneratedRegex(@"^\|\s*([\w.-]+\.pcap)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|")]
    private static partial Regex TableRow();
}
