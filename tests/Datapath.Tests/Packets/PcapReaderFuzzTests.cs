using System.Buffers.Binary;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Datapath.Tests.Packets;

/// <summary>
/// Pcap files come from the command line and from pcap ports: 20,000 files mutated from the real
/// captures (seeded, so a failure reproduces), in either byte order and either timestamp
/// resolution, must each read to a clean end or be refused with <see cref="PcapFormatException"/>;
/// every frame read also goes through extraction and conntrack parsing, as a replay does. And
/// 20,000 captures whose frames' headers are mutated replay through conntrack and fragment
/// reassembly. Any other exception, or a read that does not end, is a defect.
/// </summary>
public sealed class PcapReaderFuzzTests
{
    private const int Inputs = 20_000;

    [Fact]
    public void Twenty_thousand_mutated_pcap_files_read_to_the_end_or_are_refused_never_throw()
    {
        var corpus = Corpus();
        var random = new Random(24);
        var packet = new Packet();
        var stats = new ExtractionStats();
        int read = 0;
        int refused = 0;
        long frames = 0;
        for (int i = 0; i < Inputs; i++)
        {
            byte[] file = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            int perRead = random.Next(3) == 0 ? 1 + random.Next(7) : int.MaxValue;
            try
            {
                using var reader = new PcapReader(new TrickleStream(file, perRead), "fuzz.pcap");
                long records = 0;
                while (reader.TryReadNext(packet, 1, out var header))
                {
                    // Every record costs at least its header: a file cannot yield more records than that.
                    Assert.True(++records <= file.Length / PcapFormat.RecordHeaderLength, $"mutation {i}: more records than the file holds");
                    Assert.Equal(header.CapturedLength, packet.Length);
                    var key = default(FlowKey);
                    FlowExtractor.Extract(packet, ref key, stats);
                    ConntrackInput.TryParse(packet, in key, 0, out _);
                }

                frames += records;
                read++;
            }
            catch (PcapFormatException e)
            {
                Assert.StartsWith("fuzz.pcap: ", e.Message, StringComparison.Ordinal);
                refused++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(file)}");
            }
        }

        Assert.True(read > Inputs / 10, $"{read} read");
        Assert.True(refused > Inputs / 10, $"{refused} refused");
        Assert.True(frames > Inputs, $"{frames} frames");
    }

    [Fact]
    public void Twenty_thousand_captures_with_mutated_frame_headers_replay_through_conntrack_never_throw()
    {
        // The headers a capture's frames carry (Ethernet, VLAN, IP, fragments, ports, TCP flags and
        // options, ICMP errors) go through extraction, fragment reassembly and conntrack as test-conntrack's replay.
        var captures = TestData.AllCapturePcaps()
            .Concat(Directory.EnumerateFiles(Path.Combine(TestData.Captures, "fragments"), "*.pcap"))
            .Concat(Directory.EnumerateFiles(Path.Combine(TestData.Captures, "nat"), "*.pcap"))
            .Select(ReadRecords)
            .ToArray();
        var random = new Random(25);
        long frames = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var records = captures[random.Next(captures.Length)];
            int first = random.Next(records.Count);
            var builder = new PcapFileBuilder();
            foreach (var (header, frame) in records.Skip(first).Take(1 + random.Next(24)))
            {
                byte[] mutated = (byte[])frame.Clone();
                for (int m = random.Next(3); m >= 0 && mutated.Length > 0; m--)
                {
                    // Mostly within the first 80 bytes: the headers, not the payload.
                    int at = random.Next(Math.Min(mutated.Length, random.Next(4) == 0 ? mutated.Length : 80));
                    mutated[at] = (byte)(random.Next(4) switch { 0 => 0, 1 => 0xff, _ => random.Next(256) });
                }

                if (random.Next(6) == 0)
                {
                    mutated = mutated.AsSpan(0, random.Next(mutated.Length + 1)).ToArray();
                }

                // Sent twice now and then: duplicate fragments and retransmissions.
                int copies = random.Next(8) == 0 ? 2 : 1;
                for (int c = 0; c < copies; c++)
                {
                    builder.Record((uint)(header.TimestampNs / 1_000_000_000), (uint)(header.TimestampNs % 1_000_000_000 / 1000), mutated);
                }
            }

            byte[] file = builder.ToArray();
            try
            {
                long clock = 0;
                using var reader = new PcapReader(new MemoryStream(file), "fuzz.pcap");
                var replay = new ConntrackReplay(() => clock += 1 + random.Next(40_000), new ConnectionTable(Defaults.ConntrackOptions));
                replay.Run(reader, 1 + random.Next(32), (_, _) => frames++);
                replay.Table.Sweep(long.MaxValue / 2, int.MaxValue);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"capture {i} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}\n{Convert.ToHexString(file)}");
            }
        }

        Assert.True(frames > 80_000, $"{frames} frames");
    }

    private static List<(PcapRecordHeader Header, byte[] Frame)> ReadRecords(string path)
    {
        var records = new List<(PcapRecordHeader, byte[])>();
        using var reader = PcapReader.Open(path);
        while (records.Count < 400 && reader.TryReadNext(out var header))
        {
            records.Add((header, reader.CurrentFrame.ToArray()));
        }

        return records;
    }

    /// <summary>The first records of every capture, rewritten in both byte orders and both resolutions.</summary>
    private static byte[][] Corpus()
    {
        var corpus = new List<byte[]>();
        foreach (string path in TestData.AllCapturePcaps())
        {
            var records = new List<(PcapRecordHeader Header, byte[] Frame)>();
            using (var reader = PcapReader.Open(path))
            {
                while (records.Count < 12 && reader.TryReadNext(out var header))
                {
                    records.Add((header, reader.CurrentFrame.ToArray()));
                }
            }

            foreach (bool bigEndian in new[] { false, true })
            {
                foreach (bool nanoseconds in new[] { false, true })
                {
                    var builder = new PcapFileBuilder(bigEndian, nanoseconds ? PcapFormat.MagicNanoseconds : PcapFormat.MagicMicroseconds);
                    foreach (var (header, frame) in records)
                    {
                        long fraction = header.TimestampNs % 1_000_000_000;
                        builder.Record((uint)(header.TimestampNs / 1_000_000_000), (uint)(nanoseconds ? fraction : fraction / 1000), frame, originalLength: (uint)header.OriginalLength);
                    }

                    corpus.Add(builder.ToArray());
                }
            }
        }

        return [.. corpus];
    }

    /// <summary>A copy with a few bytes changed, a length field set to a boundary value, cut, grown or spliced.</summary>
    private static byte[] Mutate(byte[] original, byte[][] corpus, Random random)
    {
        var bytes = new List<byte>(original);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(8))
            {
                case 0:
                    // Somewhere in the global header (magic, version, snaplen, link type).
                    bytes[random.Next(Math.Min(bytes.Count, PcapFormat.GlobalHeaderLength))] = (byte)random.Next(256);
                    break;
                case 1:
                    if (bytes.Count > 0)
                    {
                        bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    }

                    break;
                case 2 or 3:
                    {
                        // A length field: the first record's caplen or origlen, the snaplen, or any 32-bit word.
                        int at = random.Next(4) switch
                        {
                            0 => PcapFormat.GlobalHeaderLength + 8,
                            1 => PcapFormat.GlobalHeaderLength + 12,
                            2 => 16,
                            _ => random.Next(Math.Max(1, bytes.Count - 3)),
                        };
                        if (at + 4 <= bytes.Count)
                        {
                            uint value = random.Next(7) switch
                            {
                                0 => 0,
                                1 => uint.MaxValue,
                                2 => int.MaxValue,
                                3 => 0x8000_0000,
                                4 => PcapFormat.MaxCaptureLength + (uint)random.Next(-2, 3),
                                5 => (uint)random.Next(70_000),
                                _ => (uint)(bytes.Count + random.Next(-40, 40)),
                            };
                            var word = new byte[4];
                            if (random.Next(2) == 0)
                            {
                                BinaryPrimitives.WriteUInt32LittleEndian(word, value);
                            }
                            else
                            {
                                BinaryPrimitives.WriteUInt32BigEndian(word, value);
                            }

                            for (int k = 0; k < 4; k++)
                            {
                                bytes[at + k] = word[k];
                            }
                        }

                        break;
                    }

                case 4:
                    // Cut short anywhere: in the global header, a record header or a frame.
                    if (bytes.Count > 0)
                    {
                        int keep = random.Next(bytes.Count);
                        bytes.RemoveRange(keep, bytes.Count - keep);
                    }

                    break;
                case 5:
                    if (bytes.Count > 0)
                    {
                        int at = random.Next(bytes.Count);
                        bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at));
                    }

                    break;
                case 6:
                    {
                        var extra = new byte[1 + random.Next(32)];
                        random.NextBytes(extra);
                        bytes.InsertRange(random.Next(bytes.Count + 1), extra);
                        break;
                    }

                default:
                    {
                        // Another file's records (or its header) after this one's.
                        var other = corpus[random.Next(corpus.Length)];
                        int from = random.Next(2) == 0 ? 0 : PcapFormat.GlobalHeaderLength;
                        bytes.AddRange(other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(400))).ToArray());
                        break;
                    }
            }
        }

        return [.. bytes];
    }
}
