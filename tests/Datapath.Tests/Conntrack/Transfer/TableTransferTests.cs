using System.Net;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;
using TestSupport.Frames;

namespace Datapath.Tests.Conntrack.Transfer;

/// <summary>
/// A table written out in chunks and read into an empty one (a shard handed to another node): the
/// copy holds the same connections with the same state, expiry, mark, label and translations, and
/// answers every later packet as the original does.
/// </summary>
public sealed class TableTransferTests
{
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 0x2a, MarkMask = 0xff, Label = 7, LabelMask = 0xf };

    public static TheoryData<string> Captures() => new(TestData.AllCapturePcaps().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Captures))]
    public void A_table_moved_half_way_through_a_capture_answers_the_rest_as_the_original(string capture)
    {
        var frames = Read(capture);
        int half = frames.Count / 2;
        var original = new ConnectionTable(Defaults.ConntrackOptions);
        var results = new ConntrackResult[1];
        foreach (var (input, time) in frames.Take(half))
        {
            original.Execute([input], in Commit, time, results);
        }

        // Small chunks: many of them, each record whole.
        var copy = Move(original, maxBytes: 1024, out int chunks);
        Assert.True(original.Count == 0 || chunks >= 1);
        Assert.Equal(Sorted(original), Sorted(copy));
        Assert.Equal(original.Count, copy.Count);

        long last = half > 0 ? frames[half - 1].TimeMs : 0;
        foreach (var (input, time) in frames.Skip(half))
        {
            var a = original.Execute(in input, in Commit, time);
            var b = copy.Execute(in input, in Commit, time);
            Assert.Equal(a, b);
            last = time;
        }

        // Expiry moved too: a sweep long after removes the same connections from both.
        Assert.Equal(original.Sweep(last + 3_600_000, int.MaxValue), copy.Sweep(last + 3_600_000, int.MaxValue));
        Assert.Equal(Sorted(original), Sorted(copy));
    }

    [Fact]
    public void Translated_connections_and_reservations_move_with_their_reply_tuples()
    {
        var original = new ConnectionTable(Defaults.ConntrackOptions);
        var snat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = Ip("192.0.2.100"), MaxAddress = Ip("192.0.2.100") };
        for (ushort port = 5000; port < 5020; port++)
        {
            original.Execute(Parse(Frame.Ip("10.0.0.1", "198.51.100.53").Udp(port, 53).Payload(12).Build()), new ConntrackArgs { Commit = true, Nat = snat }, 1_000);
        }

        var reserved = Parse(Frame.Ip("198.51.100.9", "192.0.2.7").Udp(53, 4000).Payload(1).Build()).Key;
        var owner = Parse(Frame.Ip("10.0.0.9", "198.51.100.9").Udp(4000, 53).Payload(1).Build()).Key;
        Assert.True(original.TryReserveReplyTuple(in reserved, in owner, 1_000));

        var copy = Move(original, maxBytes: 600, out _);

        Assert.Equal(Sorted(original), Sorted(copy));
        Assert.Equal(1, copy.ReservedReplyTuples);
        Assert.True(copy.TryGetReplyOwner(in reserved, out var movedOwner));
        Assert.Equal(owner, movedOwner);
        for (ushort port = 5000; port < 5020; port++)
        {
            var reply = Parse(Frame.Ip("198.51.100.53", "192.0.2.100").Udp(53, port).Payload(12).Build());
            var args = new ConntrackArgs { Nat = NatArgs.Existing };
            Assert.Equal(original.Execute(in reply, in args, 2_000), copy.Execute(in reply, in args, 2_000));
        }
    }

    [Fact]
    public void A_damaged_chunk_is_refused_whole_and_says_why()
    {
        var original = new ConnectionTable(Defaults.ConntrackOptions);
        foreach (var (input, time) in Read("many-conns.pcap"))
        {
            original.Execute(in input, in Commit, time);
        }

        var export = original.BeginExport();
        Assert.True(export.TryNextChunk(4096, out var chunk, out int connections));
        Assert.True(connections > 0);
        var copy = new ConnectionTable(Defaults.ConntrackOptions);

        var flipped = (byte[])chunk.Clone();
        flipped[^3] ^= 0x10;
        var damaged = copy.Import(flipped);
        Assert.False(damaged.Ok);
        Assert.Contains("checksum", damaged.Error, StringComparison.Ordinal);
        Assert.False(copy.Import(chunk.AsSpan(0, chunk.Length - 1)).Ok);
        Assert.False(copy.Import(chunk.AsSpan(0, 8)).Ok);
        Assert.Equal(0, copy.Count);

        // Not this shard's: refused whole.
        Assert.False(copy.Import(chunk, _ => false).Ok);
        Assert.Equal(0, copy.Count);

        var good = copy.Import(chunk);
        Assert.True(good.Ok, good.Error);
        Assert.Equal(connections, good.Connections);

        // The same chunk twice: its tuples are already there.
        Assert.False(copy.Import(chunk).Ok);
        Assert.Equal(connections, copy.Count);
    }

    [Fact]
    public void A_chunk_whose_expiry_is_past_its_clock_plus_the_longest_timeout_is_refused_whole()
    {
        // Committed on day 100 of the owner's clock: expiring then plus a UDP timeout.
        const long day100 = 100L * 24 * 3600 * 1000;
        var original = new ConnectionTable(Defaults.ConntrackOptions);
        original.Execute(Parse(Frame.Ip("10.0.0.1", "10.0.0.2").Udp(5000, 53).Payload(12).Build()), in Commit, day100);
        Assert.True(original.BeginExport().TryNextChunk(4096, out var chunk, out _));
        var copy = new ConnectionTable(Defaults.ConntrackOptions);

        // On a clock of day 0 that expiry is 100 days away, more than any node's timeouts allow:
        // a chunk that says so could keep a connection forever.
        var early = copy.Import(chunk, clockMs: 0);
        Assert.False(early.Ok);
        Assert.Contains("past the owner's clock 0 ms plus the longest timeout", early.Error, StringComparison.Ordinal);
        Assert.Equal(0, copy.Count);

        // A clock no node can have, or one that would wrap when time is added: refused before the records.
        Assert.Contains("out of range", copy.Import(chunk, clockMs: -1).Error, StringComparison.Ordinal);
        Assert.Contains("out of range", copy.Import(chunk, clockMs: ConnectionTable.MaxTransferClockMs + 1).Error, StringComparison.Ordinal);
        Assert.Equal(0, copy.Count);

        // The clock it was exported on, or one up to the longest timeout before it: taken.
        var onTime = copy.Import(chunk, clockMs: day100 - ConntrackTimeouts.MaxTimeoutMs + 60_000);
        Assert.True(onTime.Ok, onTime.Error);
        Assert.Equal(1, copy.Count);
    }

    [Fact]
    public void Chunks_are_never_larger_than_asked_and_a_connection_costs_about_a_hundred_bytes()
    {
        var original = new ConnectionTable(Defaults.ConntrackOptions);
        foreach (var (input, time) in Read("many-conns.pcap"))
        {
            original.Execute(in input, in Commit, time);
        }

        var export = original.BeginExport();
        long bytes = 0;
        int moved = 0;
        while (export.TryNextChunk(2048, out var chunk, out int connections))
        {
            Assert.InRange(chunk.Length, ConnectionTable.TransferHeaderBytes, 2048);
            bytes += chunk.Length;
            moved += connections;
        }

        Assert.Equal(original.Count, moved);
        Assert.InRange(bytes / (double)moved, 100, 130);
    }

    private static ConnectionTable Move(ConnectionTable original, int maxBytes, out int chunks)
    {
        var copy = new ConnectionTable(Defaults.ConntrackOptions);
        var export = original.BeginExport();
        chunks = 0;
        while (export.TryNextChunk(maxBytes, out var chunk, out _))
        {
            Assert.True(chunk.Length <= maxBytes);
            var result = copy.Import(chunk);
            Assert.True(result.Ok, result.Error);
            chunks++;
        }

        Assert.True(export.Done);
        return copy;
    }

    internal static List<ConnectionSnapshot> Sorted(ConnectionTable table) =>
        [.. table.Snapshot().OrderBy(s => ConntrackFormatter.FormatEntry(s), StringComparer.Ordinal)];

    internal static List<(ConntrackInput Input, long TimeMs)> Read(string capture)
    {
        var list = new List<(ConntrackInput, long)>();
        var stats = new ExtractionStats();
        using var reader = PcapReader.Open(TestData.Capture(capture));
        var packet = new Packet();
        while (reader.TryReadNext(packet, 1, out var header))
        {
            var key = default(FlowKey);
            FlowExtractor.Extract(packet, ref key, stats);
            ConntrackInput.TryParse(packet, in key, 0, out var input);
            list.Add((input, header.TimestampNs / 1_000_000));
        }

        return list;
    }

    private static ConntrackInput Parse(byte[] frame) => CtHarness.Parse(frame);

    private static UInt128 Ip(string address)
    {
        UInt128 n = 0;
        foreach (byte b in IPAddress.Parse(address).GetAddressBytes())
        {
            n = (n << 8) | b;
        }

        return n;
    }
}
