using System.Buffers.Binary;
using System.IO.Hashing;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;
using TestSupport.Frames;

namespace Datapath.Tests.Conntrack.Transfer;

/// <summary>
/// Hand-off and replica chunks come from other nodes: 20,000 chunks per test, mutated from real exports, seeds and
/// deltas (seeded, so a failure reproduces), with their header's length and checksum mostly made
/// true again so the mutations reach the records, must each be applied or refused with an error,
/// never throw; and a table that took a chunk must go on answering packets, sweeping, dumping,
/// exporting and taking further chunks without throwing.
/// </summary>
public sealed class ChunkFuzzTests
{
    private const int Inputs = 20_000;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 0x2a, MarkMask = 0xff, Label = 7, LabelMask = 0xf };

    [Fact]
    public void Mutated_hand_off_chunks_are_imported_or_refused_never_throw()
    {
        var (chunks, _, frames) = Corpus();
        Run(chunks, frames, seed: 31, (table, chunk) => table.Import(chunk));
    }

    [Fact]
    public void Mutated_replica_chunks_are_applied_or_refused_never_throw()
    {
        var (chunks, deltas, frames) = Corpus();
        Run([.. chunks, .. deltas], frames, seed: 32, (table, chunk) => table.ApplyReplica(chunk));
    }

    private static void Run(byte[][] corpus, List<(ConntrackInput Input, long TimeMs)> frames, int seed, Func<ConnectionTable, byte[], TransferImportResult> apply)
    {
        var random = new Random(seed);
        int applied = 0;
        int refused = 0;
        ConnectionTable? table = null;
        for (int i = 0; i < Inputs; i++)
        {
            // A fresh table now and then; otherwise chunks pile up in one, as a replica's do.
            if (table is null || random.Next(8) == 0)
            {
                table = new ConnectionTable(Defaults.ConntrackOptions);
            }

            byte[] chunk = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            try
            {
                var result = apply(table, chunk);
                if (result.Ok)
                {
                    applied++;
                    Exercise(table, frames, random);
                }
                else
                {
                    Assert.False(string.IsNullOrEmpty(result.Error));
                    refused++;
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}\n{Convert.ToHexString(chunk)}");
            }
        }

        Assert.True(applied > Inputs / 20, $"{applied} applied");
        Assert.True(refused > Inputs / 10, $"{refused} refused");
    }

    /// <summary>What a table does after taking a chunk: packets, a dump, a sweep, an export and a seed.</summary>
    private static void Exercise(ConnectionTable table, List<(ConntrackInput Input, long TimeMs)> frames, Random random)
    {
        for (int k = 0; k < 4; k++)
        {
            var (input, time) = frames[random.Next(frames.Count)];
            table.Execute(in input, in Commit, time);
            table.Execute(in input, new ConntrackArgs { Nat = NatArgs.Existing }, time);
        }

        foreach (var snapshot in table.Snapshot())
        {
            ConntrackFormatter.FormatEntry(snapshot);
        }

        if (random.Next(4) == 0)
        {
            var export = table.BeginExport();
            var copy = new ConnectionTable(Defaults.ConntrackOptions);
            while (export.TryNextChunk(4096, out var chunk, out _))
            {
                copy.Import(chunk);
            }

            var seed = table.BeginReplicaSeed();
            while (seed.TryNextChunk(4096, out var chunk))
            {
                copy.ApplyReplica(chunk);
            }

            table.StopTrackingChanges();
        }

        table.Sweep(random.Next(2) == 0 ? frames[^1].TimeMs : long.MaxValue / 2, 1000);
    }

    /// <summary>Exports, seeds and deltas of tables built from the captures, with translations and reservations.</summary>
    private static (byte[][] Chunks, byte[][] Deltas, List<(ConntrackInput Input, long TimeMs)> Frames) Corpus()
    {
        var frames = new List<(ConntrackInput, long)>();
        foreach (string capture in new[] { "tcp-http.pcap", "udp-dns.pcap", "icmp.pcap", "ipv6.pcap", "tcp-rst.pcap" })
        {
            frames.AddRange(TableTransferTests.Read(capture).Take(60));
        }

        var chunks = new List<byte[]>();
        var deltas = new List<byte[]>();
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        table.BeginReplicaSeed();
        int n = 0;
        foreach (var (input, time) in frames)
        {
            table.Execute(in input, in Commit, time);
            if (++n % 25 == 0)
            {
                table.DrainChanges(2048, deltas);
            }
        }

        var snat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = 0xc000_0264, MaxAddress = 0xc000_0264 };
        for (ushort port = 5000; port < 5006; port++)
        {
            table.Execute(CtHarness.Parse(Frame.Ip("10.0.0.1", "198.51.100.53").Udp(port, 53).Payload(12).Build()), new ConntrackArgs { Commit = true, Nat = snat }, 1_000);
        }

        var reserved = CtHarness.Parse(Frame.Ip("198.51.100.9", "192.0.2.7").Udp(53, 4000).Payload(1).Build()).Key;
        var owner = CtHarness.Parse(Frame.Ip("10.0.0.9", "198.51.100.9").Udp(4000, 53).Payload(1).Build()).Key;
        table.TryReserveReplyTuple(in reserved, in owner, 1_000);
        table.Sweep(frames.Max(f => f.Item2) + 400_000, 5);
        table.ReleaseReplyTuple(in reserved);
        table.DrainChanges(2048, deltas);

        var export = table.BeginExport();
        while (export.TryNextChunk(2048, out var chunk, out _))
        {
            chunks.Add(chunk);
        }

        var seed = table.BeginReplicaSeed();
        while (seed.TryNextChunk(2048, out var chunk))
        {
            chunks.Add(chunk);
        }

        return ([.. chunks], [.. deltas.Where(d => d.Length > ConnectionTable.TransferHeaderBytes)], frames);
    }

    /// <summary>A copy with a few record bytes changed, cut, grown or spliced; the header's length and checksum are made true again unless the header itself is the target.</summary>
    private static byte[] Mutate(byte[] original, byte[][] corpus, Random random)
    {
        const int header = ConnectionTable.TransferHeaderBytes;
        var bytes = new List<byte>(original);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            int bodyLength = bytes.Count - header;
            switch (random.Next(8))
            {
                case 7:
                    {
                        // Another chunk's records after these, counted: tuples met twice, reservations over connections.
                        var other = corpus[random.Next(corpus.Length)];
                        int count = BinaryPrimitives.ReadUInt16LittleEndian([bytes[6], bytes[7]]) + BinaryPrimitives.ReadUInt16LittleEndian(other.AsSpan(6));
                        bytes.AddRange(other.AsSpan(header).ToArray());
                        bytes[6] = (byte)count;
                        bytes[7] = (byte)(count >> 8);
                        break;
                    }

                case 0 or 1:
                    if (bodyLength > 0)
                    {
                        bytes[header + random.Next(bodyLength)] = (byte)random.Next(256);
                    }

                    break;
                case 2:
                    {
                        // A field set to a boundary value: a tag, a length, a state, a zone, an expiry's top byte.
                        if (bodyLength > 0)
                        {
                            int at = header + random.Next(bodyLength);
                            bytes[at] = (byte)(random.Next(5) switch { 0 => 0, 1 => 0xff, 2 => 0x7f, 3 => 0x80, _ => random.Next(8) });
                        }

                        break;
                    }

                case 3:
                    if (bodyLength > 0)
                    {
                        int at = header + random.Next(bodyLength);
                        bytes.RemoveRange(at, Math.Min(1 + random.Next(48), bytes.Count - at));
                    }

                    break;
                case 4:
                    {
                        var extra = new byte[1 + random.Next(48)];
                        random.NextBytes(extra);
                        bytes.InsertRange(header + random.Next(bodyLength + 1), extra);
                        break;
                    }

                case 5:
                    {
                        // Another chunk's records, whole or from the middle of one.
                        var other = corpus[random.Next(corpus.Length)];
                        int from = header + (random.Next(2) == 0 ? 0 : random.Next(Math.Max(1, other.Length - header)));
                        if (from < other.Length)
                        {
                            bytes.AddRange(other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(600))).ToArray());
                        }

                        break;
                    }

                default:
                    {
                        // The record count.
                        ushort count = (ushort)(random.Next(4) switch { 0 => 0, 1 => ushort.MaxValue, _ => BinaryPrimitives.ReadUInt16LittleEndian([bytes[6], bytes[7]]) + random.Next(-2, 3) });
                        bytes[6] = (byte)count;
                        bytes[7] = (byte)(count >> 8);
                        break;
                    }
            }
        }

        var result = bytes.ToArray();
        var body = result.AsSpan(header);
        if (random.Next(10) != 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)body.Length);
        }

        if (random.Next(10) != 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(12), Crc32.HashToUInt32(body));
        }

        if (random.Next(30) == 0)
        {
            result[random.Next(8)] ^= (byte)(1 << random.Next(8));
        }

        return result;
    }
}
