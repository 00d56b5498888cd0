using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Datapath.Tests.Flow;

/// <summary>Real frames from the captures in tests/data: every field against PacketDotNet, and every prefix of every frame.</summary>
public sealed class FlowExtractorCaptureTests
{
    public static TheoryData<string> Captures()
    {
        var data = new TheoryData<string>();
        foreach (string path in TestData.AllCapturePcaps())
        {
            data.Add(Path.GetFileName(path));
        }

        data.Add(Path.Combine("fragments", "ip-frag.pcap"));
        return data;
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Every_captured_frame_extracts_without_a_stop_and_agrees_with_PacketDotNet(string capture)
    {
        var frames = TestPcap.ReadFrames(TestData.Capture(capture));
        Assert.NotEmpty(frames);
        var stats = new ExtractionStats();
        var packet = new Packet();
        var key = default(FlowKey);
        for (int i = 0; i < frames.Count; i++)
        {
            packet.SetFrame(frames[i], inPort: (uint)(i % 3) + 1);
            packet.Metadata.RecircId = (uint)i;
            FlowExtractor.Extract(packet, ref key, stats);

            var expected = PacketDotNetFlowKey.From(frames[i], in packet.Metadata);
            FlowKeyAssert.Equal(expected.Key, key, $"{capture} frame {i + 1}");
            Assert.Equal(expected.L3Offset, packet.L3Offset);
            Assert.Equal(expected.L4Offset, packet.L4Offset);
            Assert.Equal(0, stats.Total);
        }
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Every_prefix_of_every_captured_frame_stops_cleanly_and_counts_the_stop(string capture)
    {
        var frames = TestPcap.ReadFrames(TestData.Capture(capture));
        var stats = new ExtractionStats();
        var metadata = default(PacketMetadata);
        var full = default(FlowKey);
        var key = default(FlowKey);
        foreach (byte[] frame in frames)
        {
            FlowExtractor.Extract(frame, in metadata, ref full, stats, out _, out _);
            int required = RequiredLength(frame);
            for (int length = 0; length <= frame.Length; length++)
            {
                long before = stats.Total;
                FlowExtractor.Extract(frame.AsSpan(0, length), in metadata, ref key, stats, out int l3, out int l4);

                Assert.InRange(l3, -1, length);
                Assert.InRange(l4, -1, length);
                Assert.True(l4 == -1 || l4 > l3, "L4 follows L3");
                if (length < required)
                {
                    Assert.True(stats.Total > before, $"a prefix of {length} < {required} bytes must count a stop");
                    Assert.False(FlowKey.Equals(in key, in full), $"a prefix of {length} bytes cannot give the full key");
                }
                else
                {
                    Assert.Equal(before, stats.Total);
                    FlowKeyAssert.Equal(full, key, $"prefix {length} keeps all headers");
                }
            }
        }
    }

    [Fact]
    public void Extraction_and_hashing_allocate_nothing()
    {
        var packets = new List<Packet>();
        foreach (string capture in new[] { "ipv6.pcap", "icmp.pcap", "tcp-http.pcap", Path.Combine("fragments", "ip-frag.pcap") })
        {
            foreach (byte[] frame in TestPcap.ReadFrames(TestData.Capture(capture)))
            {
                var p = new Packet();
                p.SetFrame(frame, inPort: 1);
                packets.Add(p);
            }
        }

        var stats = new ExtractionStats();
        var key = default(FlowKey);
        uint sink = 0;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var p in packets)
            {
                FlowExtractor.Extract(p, ref key, stats);
                sink = (sink * 31) + ConnectionHash.SymmetricHash(in key) + ConnectionHash.PlacementHash(in key);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (round > 0)
            {
                Assert.Equal(0, allocated);
            }
        }

        Assert.NotEqual(0u, sink);
        Assert.Equal(0, stats.Total);
    }

    /// <summary>
    /// Bytes the headers need, read from the frame independently of the extractor: the whole IP
    /// datagram (OVS rejects a datagram shorter than its length field) or the 28-byte ARP body.
    /// </summary>
    private static int RequiredLength(byte[] frame)
    {
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12));
        return type switch
        {
            EtherTypes.Ipv4 => 14 + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16)),
            EtherTypes.Ipv6 => 14 + 40 + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18)),
            EtherTypes.Arp => 14 + 28,
            _ => throw new InvalidDataException($"unexpected eth_type {type:x4} in a capture"),
        };
    }
}
