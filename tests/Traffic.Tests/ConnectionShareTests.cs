using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

/// <summary>A generator split by receive side: each part keeps the connections its queues receive, and the parts add up to the profile.</summary>
public class ConnectionShareTests
{
    private static readonly TrafficProfile Mixed = Defaults.TrafficProfile with
    {
        Connections = 300,
        RequestsPerConnection = 3,
        ServerInitiatedPercent = 25,
        ResetPercent = 10,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Every_slot_is_in_exactly_one_part_and_the_parts_shares_of_a_whole_add_up_to_it(int parts)
    {
        var shares = ConnectionShare.Split(Mixed, parts, Placement(parts));

        var slots = shares.SelectMany(s => s.Slots).ToList();
        Assert.Equal(Enumerable.Range(0, Mixed.Connections), slots.Order());
        Assert.All(shares, s => Assert.Equal(s.Slots.Order(), s.Slots));
        foreach (long whole in new long[] { 0, 1, 99, 1_000_001, 14_880_952 })
        {
            Assert.Equal(whole, shares.Sum(s => s.ShareOf(whole)));
            Assert.All(shares, s => Assert.InRange(s.ShareOf(whole), (whole * s.Slots.Count / Mixed.Connections) - 1, (whole * s.Slots.Count / Mixed.Connections) + 1));
        }
    }

    [Fact]
    public void Every_frame_a_part_sends_is_received_by_its_own_part_and_no_two_parts_open_the_same_connection()
    {
        const int parts = 3;
        var shares = ConnectionShare.Split(Mixed, parts, Placement(parts));
        var connections = new List<HashSet<(byte, ulong, ulong)>>();
        var extraction = new ExtractionStats();
        foreach (var share in shares)
        {
            var seen = new HashSet<(byte, ulong, ulong)>();
            var wire = new TrafficWire(Mixed, seed: 7, share);
            wire.Filter = (_, packet) =>
            {
                // What the port's RSS does with the frame: the queue its placement hash gives.
                var key = default(FlowKey);
                FlowExtractor.Extract(packet, ref key, extraction);
                Assert.Equal(share.Part, (int)(ConnectionHash.PlacementHash(in key) % parts));
                seen.Add(ObservedFrame.Read(packet).Connection);
                return WireVerdict.Forward;
            };

            wire.Run(400);

            // Connections churn (each ended one replaced), and the part keeps its own number alive.
            Assert.True(wire.Generator.Stats.TotalCompleted > share.Slots.Count, $"part {share.Part} completed {wire.Generator.Stats.TotalCompleted}");
            Assert.Equal(share.Slots.Count, wire.Generator.ActiveConnections);
            Assert.Equal(0, wire.Generator.Stats.Ignored);
            connections.Add(seen);
        }

        Assert.Equal(Mixed.Connections, shares.Sum(s => s.Slots.Count));
        for (int a = 0; a < parts; a++)
        {
            for (int b = a + 1; b < parts; b++)
            {
                Assert.Empty(connections[a].Intersect(connections[b]));
            }
        }
    }

    [Fact]
    public void A_generator_with_the_only_part_sends_the_same_frames_as_one_without_a_share()
    {
        var share = ConnectionShare.Split(Mixed, 1, (_, _, _, _, _) => 0).Single();
        var whole = Frames(new TrafficWire(Mixed, seed: 3));
        var part = Frames(new TrafficWire(Mixed, seed: 3, share));

        Assert.Equal(whole, part);
    }

    [Fact]
    public void Paced_parts_send_their_share_of_the_rate_not_the_whole_rate_each()
    {
        var busy = Mixed with { Connections = 2000, RatePps = 100_000 };
        var shares = ConnectionShare.Split(busy, 2, Placement(2));
        long sent = 0;
        foreach (var share in shares)
        {
            var wire = new TrafficWire(busy, seed: 1, share);
            wire.Run(20_000);
            sent += wire.Generator.Stats.FramesGenerated(1);
        }

        // 200 ms of virtual time at 100,000 frames per second from port 1: 20,000 over both parts.
        Assert.InRange(sent, 19_000, 20_002);
    }

    [Fact]
    public void A_placement_that_names_a_part_out_of_range_is_refused_with_the_slot()
    {
        var error = Assert.Throws<ArgumentException>(() => ConnectionShare.Split(Mixed, 2, (_, _, _, _, _) => 2));

        Assert.Contains("slot 0 in part 2", error.Message);
    }

    [Fact]
    public void A_share_of_another_profile_is_refused()
    {
        var share = ConnectionShare.Split(Mixed, 2, Placement(2))[0];

        Assert.Throws<ArgumentException>(() => new TrafficGenerator(Mixed with { Connections = 301 }, 1, share));
    }

    /// <summary>A port's symmetric RSS with one queue per part, as the generator port's is.</summary>
    private static ConnectionPlacement Placement(int parts) => (protocol, a, portA, b, portB) =>
        (int)(ConnectionHash.PlacementHash(protocol, a, portA, b, portB) % (uint)parts);

    private static List<string> Frames(TrafficWire wire)
    {
        var frames = new List<string>();
        wire.Filter = (_, packet) =>
        {
            frames.Add(Convert.ToHexString(packet.Data));
            return WireVerdict.Forward;
        };
        wire.Run(200);
        return frames;
    }
}
