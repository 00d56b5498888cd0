using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Datapath.Tests.Packets;

/// <summary>Every malformed input fails with a message naming the file, the byte offset and the fault.</summary>
public sealed class PcapReaderErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_pcapng_file_is_refused_with_advice_to_convert_it()
    {
        // Section Header Block: type, length, byte-order magic 0x1a2b3c4d, version 1.0.
        byte[] shb = [0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0, 0, 0];
        string path = _dir.Write("capture.pcapng", shb);

        var e = OpenFails(path);

        Assert.Equal($"{path}: byte offset 0: pcapng is not supported; convert with editcap -F pcap", e.Message);
        Assert.Equal(0, e.Offset);
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void An_unknown_magic_number_is_refused_and_shown()
    {
        byte[] bytes = new PcapFileBuilder(magic: 0xdeadbeef).ToArray();
        string path = _dir.Write("bad-magic.pcap", bytes);

        var e = OpenFails(path);

        Assert.Equal(0, e.Offset);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown magic number 0xefbeadde", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unsupported_version_is_refused_at_offset_4(bool bigEndian)
    {
        string path = _dir.Write("v23.pcap", new PcapFileBuilder(bigEndian, minor: 3).ToArray());

        var e = OpenFails(path);

        Assert.Equal($"{path}: byte offset 4: unsupported pcap version 2.3 (only 2.4 is supported)", e.Message);
        Assert.Equal(4, e.Offset);
    }

    [Theory]
    [InlineData(113u)] // LINUX_SLL, what "tcpdump -i any" writes
    [InlineData(101u)] // RAW
    public void A_link_type_other_than_ethernet_is_refused_by_number(uint linkType)
    {
        string path = _dir.Write("cooked.pcap", new PcapFileBuilder(linkType: linkType).ToArray());

        var e = OpenFails(path);

        Assert.Equal($"{path}: byte offset 20: unsupported link type {linkType}; only Ethernet (1) is supported", e.Message);
        Assert.Equal(20, e.Offset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(23)]
    public void A_truncated_global_header_is_refused_with_the_bytes_present(int length)
    {
        byte[] full = new PcapFileBuilder().ToArray();
        string path = _dir.Write("short.pcap", full[..length]);

        var e = OpenFails(path);

        Assert.Equal($"{path}: byte offset 0: truncated global header ({length} of 24 bytes)", e.Message);
    }

    [Fact]
    public void A_truncated_record_header_names_the_record_and_its_offset()
    {
        byte[] bytes = new PcapFileBuilder()
            .Record(1, 0, PcapFileBuilder.Frame(60, 1))
            .Raw(new byte[7])
            .ToArray();
        string path = _dir.Write("cut-header.pcap", bytes);

        var e = SecondRecordFails(path);

        Assert.Equal($"{path}: record 2 at byte offset 100: truncated record header (7 of 16 bytes)", e.Message);
        Assert.Equal(2, e.RecordNumber);
        Assert.Equal(100, e.Offset);
    }

    [Fact]
    public void Truncated_record_data_names_the_record_and_its_offset()
    {
        byte[] bytes = new PcapFileBuilder()
            .Record(1, 0, PcapFileBuilder.Frame(60, 1))
            .Record(2, 0, PcapFileBuilder.Frame(1514, 2))
            .ToArray();
        string path = _dir.Write("cut-data.pcap", bytes[..^14]);

        var e = SecondRecordFails(path);

        Assert.Equal($"{path}: record 2 at byte offset 100: truncated record data (1500 of 1514 captured bytes)", e.Message);
    }

    [Fact]
    public void A_record_above_the_snapshot_length_is_cut_to_it_and_the_next_one_read_as_libpcap_does()
    {
        // libpcap 1.10 (pcap_next_ex) gives this file's second record as caplen 128, len 200.
        byte[] over = PcapFileBuilder.Frame(200, 2);
        byte[] bytes = new PcapFileBuilder(snapLength: 128)
            .Record(1, 0, PcapFileBuilder.Frame(60, 1))
            .Record(2, 0, over)
            .Record(3, 0, PcapFileBuilder.Frame(70, 3))
            .ToArray();
        string path = _dir.Write("over-snap.pcap", bytes);

        using var reader = PcapReader.Open(path);
        Assert.True(reader.TryReadNext(out _));
        Assert.True(reader.TryReadNext(out var cut));
        Assert.Equal((128, 200), (cut.CapturedLength, cut.OriginalLength));
        Assert.Equal(over[..128], reader.CurrentFrame.ToArray());
        Assert.True(reader.TryReadNext(out var next));
        Assert.Equal((3L, 60 + 16 + 200 + 16 + 24L, 70), (next.RecordNumber, next.Offset, next.CapturedLength));
        Assert.False(reader.TryReadNext(out _));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0x7fffffffu)]
    public void An_absurd_captured_length_is_refused_whatever_the_snapshot_length(uint snapLength)
    {
        byte[] bytes = new PcapFileBuilder(snapLength: snapLength)
            .Record(1, 0, PcapFileBuilder.Frame(60, 1))
            .Record(2, 0, PcapFileBuilder.Frame(60, 2), capturedLength: 262_145)
            .ToArray();
        string path = _dir.Write("absurd.pcap", bytes);

        var e = SecondRecordFails(path);

        Assert.Equal($"{path}: record 2 at byte offset 100: captured length 262145 is larger than the 262144-byte limit (corrupt record header)", e.Message);
    }

    [Fact]
    public void A_captured_length_of_exactly_256_KiB_is_accepted()
    {
        byte[] frame = PcapFileBuilder.Frame(256 * 1024, 9);
        string path = _dir.Write("max.pcap", new PcapFileBuilder(snapLength: 262_144).Record(1, 0, frame).ToArray());

        using var reader = PcapReader.Open(path);
        var packet = new Packet();
        Assert.True(reader.TryReadNext(packet, 1, out _));
        Assert.Equal(frame, packet.Data.ToArray());
    }

    [Theory]
    [InlineData("udp-dns.pcap")]
    [InlineData("tcp-http.pcap")]
    public void A_real_capture_cut_anywhere_inside_its_last_record_fails_at_that_record(string name)
    {
        byte[] full = File.ReadAllBytes(TestData.Capture(name));
        var (count, lastOffset) = CountAndLastOffset(full);

        // Cut exactly before the last record: a clean, shorter file.
        Assert.Equal(count - 1, ReadToEnd(full[..(int)lastOffset]));

        for (int cut = (int)lastOffset + 1; cut < full.Length; cut++)
        {
            var e = Assert.Throws<PcapFormatException>(() => ReadToEnd(full[..cut], name));
            Assert.Equal(count, e.RecordNumber);
            Assert.Equal(lastOffset, e.Offset);
            Assert.Contains($"{name}: record {count} at byte offset {lastOffset}: truncated record", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_cut_capture_written_to_disk_fails_the_same_way_through_open()
    {
        byte[] full = File.ReadAllBytes(TestData.Capture("icmp.pcap"));
        var (count, lastOffset) = CountAndLastOffset(full);
        string path = _dir.Write("icmp-cut.pcap", full[..^1]);

        using var reader = PcapReader.Open(path);
        for (int i = 1; i < count; i++)
        {
            Assert.True(reader.TryReadNext(out _));
        }

        var e = Assert.Throws<PcapFormatException>(() => reader.TryReadNext(out _));
        Assert.StartsWith($"{path}: record {count} at byte offset {lastOffset}: truncated record data", e.Message, StringComparison.Ordinal);
    }

    private static PcapFormatException OpenFails(string path) =>
        Assert.Throws<PcapFormatException>(() => PcapReader.Open(path).Dispose());

    private static PcapFormatException SecondRecordFails(string path)
    {
        using var reader = PcapReader.Open(path);
        Assert.True(reader.TryReadNext(out _));
        return Assert.Throws<PcapFormatException>(() => reader.TryReadNext(out _));
    }

    private static (int Count, long LastOffset) CountAndLastOffset(byte[] file)
    {
        using var reader = new PcapReader(new MemoryStream(file), "whole");
        int count = 0;
        long last = -1;
        while (reader.TryReadNext(out var header))
        {
            count++;
            last = header.Offset;
        }

        return (count, last);
    }

    private static int ReadToEnd(byte[] bytes, string? name = null)
    {
        using var reader = new PcapReader(new MemoryStream(bytes), name ?? "cut");
        int n = 0;
        while (reader.TryReadNext(out _))
        {
            n++;
        }

        return n;
    }
}
