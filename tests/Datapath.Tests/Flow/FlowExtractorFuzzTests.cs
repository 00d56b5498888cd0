using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using static Datapath.Tests.Flow.TestFrames;

namespace Datapath.Tests.Flow;

/// <summary>Random and mutated frames: extraction never throws and offsets stay inside the frame.</summary>
public sealed class FlowExtractorFuzzTests
{
    private readonly ExtractionStats _stats = new();

    [Fact]
    public void Random_bytes_of_random_lengths_never_throw()
    {
        var random = new Random(20240601);
        var buffer = new byte[1600];
        for (int i = 0; i < 20_000; i++)
        {
            int length = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer.AsSpan(0, length));
            Check(buffer.AsSpan(0, length));
        }
    }

    [Fact]
    public void Random_bytes_behind_valid_ethernet_vlan_and_ip_headers_never_throw()
    {
        var random = new Random(77);
        byte[][] templates =
        [
            V4().Udp(1, 2).Build(),
            V4().Tcp(1, 2).Vlan(7, EtherTypes.Vlan8021Q).Build(),
            V6().Udp(1, 2).Build(),
            Arp(1, MacA, V4A, MacB, V4B).Build(),
        ];
        byte[] protocols = [IpProtocols.Tcp, IpProtocols.Udp, IpProtocols.Sctp, IpProtocols.Icmp, 2, IpProtocols.Icmpv6,
            IpProtocols.HopByHop, IpProtocols.Routing, IpProtocols.DestinationOptions, IpProtocols.Fragment, 51, 59];
        var buffer = new byte[1600];
        for (int i = 0; i < 20_000; i++)
        {
            byte[] template = templates[i % templates.Length];
            int headerEnd = template.Length - 8;
            int length = random.Next(headerEnd, buffer.Length + 1);
            template.AsSpan(0, headerEnd).CopyTo(buffer);
            random.NextBytes(buffer.AsSpan(headerEnd, length - headerEnd));
            int l3 = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(12)) == EtherTypes.Vlan8021Q ? 18 : 14;
            byte proto = protocols[random.Next(protocols.Length)];
            if (buffer[l3] >> 4 == 4)
            {
                buffer[l3 + 9] = proto;
                int total = random.Next(4) == 0 ? random.Next(0, 65536) : length - l3 - random.Next(0, 8);
                BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(l3 + 2), (ushort)Math.Max(total, 0));
                buffer[l3 + 6] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)0;
            }
            else if (buffer[l3] >> 4 == 6)
            {
                buffer[l3 + 6] = proto;
                int payload = random.Next(4) == 0 ? random.Next(0, 65536) : length - l3 - 40 - random.Next(0, 8);
                BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(l3 + 4), (ushort)Math.Max(payload, 0));
            }

            Check(buffer.AsSpan(0, length));
        }

        Assert.True(_stats.Total > 0, "the random tails should hit some stops");
    }

    [Fact]
    public void Captured_frames_with_random_byte_mutations_never_throw()
    {
        var random = new Random(4242);
        foreach (string path in TestData.AllCapturePcaps())
        {
            foreach (byte[] original in TestPcap.ReadFrames(path).Take(200))
            {
                byte[] frame = (byte[])original.Clone();
                for (int round = 0; round < 10; round++)
                {
                    for (int flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        frame[random.Next(frame.Length)] = (byte)random.Next(256);
                    }

                    Check(frame);
                    Check(frame.AsSpan(0, random.Next(frame.Length + 1)));
                }
            }
        }
    }

    private void Check(ReadOnlySpan<byte> frame)
    {
        var metadata = default(PacketMetadata);
        var key = default(FlowKey);
        FlowExtractor.Extract(frame, in metadata, ref key, _stats, out int l3, out int l4);
        if (l3 < -1 || l3 > frame.Length || l4 < -1 || l4 > frame.Length || (l4 != -1 && l4 <= l3))
        {
            Assert.Fail($"offsets {l3}/{l4} outside a frame of {frame.Length} bytes: {Convert.ToHexString(frame)}");
        }

        if (frame.Length < 14 && !key.IsZero)
        {
            Assert.Fail("a runt frame produced header fields");
        }
    }
}
