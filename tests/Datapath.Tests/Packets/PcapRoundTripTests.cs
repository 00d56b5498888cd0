using System.Buffers.Binary;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Datapath.Tests.Packets;

public sealed class PcapRoundTripTests
{
    // Lengths include an empty frame, a minimum frame, a full-size one and jumbo frames larger
    // than a Packet's default capacity.
    private static readonly int[] FrameLengths = [60, 0, 1514, 64, 9000, 2049, 42, 65535];

    [Theory]
    [InlineData(PcapResolution.Microseconds)]
    [InlineData(PcapResolution.Nanoseconds)]
    public void Frames_and_timestamps_written_come_back_identical(PcapResolution resolution)
    {
        long unit = resolution == PcapResolution.Nanoseconds ? 1 : 1000;
        var frames = FrameLengths.Select((len, i) => PcapFileBuilder.Frame(len, seed: i)).ToArray();
        var timestamps = frames.Select((_, i) => (1_764_151_380_000_000_000L + (i * 123_456_789L)) / unit * unit).ToArray();

        using var dir = new TempDirectory();
        string path = dir.File("roundtrip.pcap");
        using (var writer = PcapWriter.Create(path, resolution))
        {
            for (int i = 0; i < frames.Length; i++)
            {
                writer.Write(frames[i], timestamps[i]);
            }
        }

        using var reader = PcapReader.Open(path);
        Assert.Equal(resolution, reader.Resolution);
        Assert.Equal(65535u, reader.SnapLength);
        var packet = new Packet();
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.True(reader.TryReadNext(packet, inPort: 1, out var header));
            Assert.Equal(i + 1, header.RecordNumber);
            Assert.Equal(timestamps[i], header.TimestampNs);
            Assert.Equal(frames[i].Length, header.CapturedLength);
            Assert.Equal(frames[i].Length, header.OriginalLength);
            Assert.Equal(frames[i], packet.Data.ToArray());
        }

        Assert.False(reader.TryReadNext(packet, inPort: 1, out _));
    }

    [Fact]
    public void Microsecond_files_round_sub_microsecond_timestamps_down()
    {
        using var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, PcapResolution.Microseconds, leaveOpen: true))
        {
            writer.Write(new byte[60], 1_000_000_001_999L);
        }

        stream.Position = 0;
        using var reader = new PcapReader(stream, "mem.pcap");
        Assert.True(reader.TryReadNext(out var header));
        Assert.Equal(1_000_000_001_000L, header.TimestampNs);
    }

    [Fact]
    public void The_writer_emits_the_classic_little_endian_global_header()
    {
        using var stream = new MemoryStream();
        using (new PcapWriter(stream, PcapResolution.Nanoseconds, leaveOpen: true))
        {
        }

        byte[] h = stream.ToArray();
        Assert.Equal(24, h.Length);
        Assert.Equal(new byte[] { 0x4d, 0x3c, 0xb2, 0xa1 }, h[..4]);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(4)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(6)));
        Assert.Equal(65535u, BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(16)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(20)));
    }

    [Fact]
    public void Frames_longer_than_the_snapshot_length_are_cut_and_keep_their_original_length()
    {
        byte[] frame = PcapFileBuilder.Frame(70_000, seed: 3);
        using var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, leaveOpen: true))
        {
            writer.Write(frame, 0);
        }

        stream.Position = 0;
        using var reader = new PcapReader(stream, "mem.pcap");
        Assert.True(reader.TryReadNext(out var header));
        Assert.Equal(65535, header.CapturedLength);
        Assert.Equal(70_000, header.OriginalLength);
        Assert.Equal(frame[..65535], reader.CurrentFrame.ToArray());
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(4_294_967_296L * 1_000_000_000L)]
    public void Timestamps_outside_the_32_bit_seconds_range_are_refused(long timestampNs)
    {
        using var writer = new PcapWriter(new MemoryStream());
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(new byte[60], timestampNs));
    }

    [Theory]
    [InlineData(false, 0xa1b2c3d4u, PcapResolution.Microseconds)]
    [InlineData(true, 0xa1b2c3d4u, PcapResolution.Microseconds)]
    [InlineData(false, 0xa1b23c4du, PcapResolution.Nanoseconds)]
    [InlineData(true, 0xa1b23c4du, PcapResolution.Nanoseconds)]
    public void Hand_built_files_of_either_byte_order_and_resolution_read_back(bool bigEndian, uint magic, PcapResolution resolution)
    {
        byte[] a = PcapFileBuilder.Frame(60, seed: 1);
        byte[] b = PcapFileBuilder.Frame(3000, seed: 2);
        byte[] bytes = new PcapFileBuilder(bigEndian, magic)
            .Record(1_700_000_000, 999_999, a)
            .Record(4_000_000_000, 5, b, originalLength: 3100)
            .ToArray();
        long scale = resolution == PcapResolution.Nanoseconds ? 1 : 1000;

        // A trickling stream also proves short reads are completed, not mistaken for truncation.
        using var reader = new PcapReader(new TrickleStream(bytes, maxPerRead: 5), "hand.pcap");
        Assert.Equal(resolution, reader.Resolution);
        Assert.Equal(bigEndian == BitConverter.IsLittleEndian, reader.IsByteSwapped);

        var packet = new Packet();
        Assert.True(reader.TryReadNext(packet, 2, out var first));
        Assert.Equal((1_700_000_000L * 1_000_000_000L) + (999_999 * scale), first.TimestampNs);
        Assert.Equal(a, packet.Data.ToArray());

        Assert.True(reader.TryReadNext(packet, 2, out var second));
        Assert.Equal((4_000_000_000L * 1_000_000_000L) + (5 * scale), second.TimestampNs);
        Assert.Equal(3000, second.CapturedLength);
        Assert.Equal(3100, second.OriginalLength);
        Assert.Equal(24 + 16 + 60, second.Offset);
        Assert.Equal(b, packet.Data.ToArray());

        Assert.False(reader.TryReadNext(packet, 2, out _));
    }
}
