using TestSupport.Frames;
using Datapath.Tests.Support;
using System.Net;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Conntrack.Nat;
using Datapath.Packets;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// NAT in one connection table: allocation (Open vSwitch's order where it is determined, uniqueness
/// per zone everywhere), exhaustion, the translation of later packets of both directions, and the
/// reservations a shard keeps for reply tuples of connections that another shard owns.
/// </summary>
public sealed class NatTableTests
{
    private const string Server = "198.51.100.53";

    private static readonly NatArgs SnatToOne = Snat("192.0.2.100");

    [Fact]
    public void SNAT_keeps_the_source_port_and_a_reply_to_the_translated_tuple_finds_the_connection()
    {
        var ct = new CtHarness();

        var first = Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne);
        var reply = Exec(ct, Frame.Ip(Server, "192.0.2.100").Udp(53, 5000).Payload(12).Build(), NatArgs.Existing);

        Assert.Equal(CtState.New | CtState.Tracked | CtState.SrcNat, first.State);
        Assert.Equal((Ip("192.0.2.100"), (ushort)5000), (first.Nat.Src, first.Nat.SrcPort));
        Assert.True(first.Nat.Source);
        Assert.Equal(CtState.Established | CtState.Reply | CtState.Tracked | CtState.DstNat, reply.State);
        Assert.False(reply.Nat.Source);
        Assert.Equal((Ip("10.0.0.1"), (ushort)5000), (reply.Nat.Dst, reply.Nat.DstPort));
        Assert.Equal(new ConntrackTuple(Ip("10.0.0.1"), Ip(Server), 5000, 53, 17, false), reply.OriginalTuple);
    }

    [Fact]
    public void A_taken_tuple_moves_the_port_and_no_two_connections_of_a_zone_share_a_reply_tuple()
    {
        var ct = new CtHarness();
        var ports = new List<ushort>();
        for (int host = 1; host <= 20; host++)
        {
            ports.Add(Commit(ct, Frame.Ip($"10.0.0.{host}", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne).Nat.SrcPort);
        }

        Assert.Equal(Enumerable.Range(5000, 20).Select(p => (ushort)p), ports);

        // Another zone has its own tuples: the same port is free there.
        var other = Commit(ct, Frame.Ip("10.0.0.99", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne, zone: 2);
        Assert.Equal((ushort)5000, other.Nat.SrcPort);
    }

    [Fact]
    public void A_port_range_gives_ports_of_the_range_until_it_is_exhausted_then_commits_nothing()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { NatSeed = 3 });
        var nat = Snat("192.0.2.100", 40000, 40009);
        var ports = new HashSet<ushort>();
        for (int host = 1; host <= 10; host++)
        {
            var result = Commit(ct, Frame.Ip($"10.0.0.{host}", Server).Udp(7000, 53).Payload(12).Build(), nat);
            Assert.InRange(result.Nat.SrcPort, (ushort)40000, (ushort)40009);
            Assert.True(ports.Add(result.Nat.SrcPort));
        }

        int before = ct.Table.Count;
        var eleventh = Commit(ct, Frame.Ip("10.0.0.11", Server).Udp(7000, 53).Payload(12).Build(), nat);

        Assert.Equal(CtState.New | CtState.Tracked, eleventh.State);
        Assert.True(eleventh.Nat.IsNone);
        Assert.False(eleventh.Drop);
        Assert.Equal(before, ct.Table.Count);
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.NatExhausted]);
    }

    [Fact]
    public void A_hashed_port_range_spreads_its_first_choices()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { NatSeed = 11 });
        var nat = Snat("192.0.2.100", 20000, 20999);
        var ports = Enumerable.Range(1, 50)
            .Select(host => Commit(ct, Frame.Ip($"10.0.1.{host}", $"198.51.100.{host}").Udp(6000, 53).Payload(12).Build(), nat).Nat.SrcPort)
            .ToList();

        // Each connection has its own server, so no choice was forced: the hash spread them.
        Assert.All(ports, p => Assert.InRange(p, (ushort)20000, (ushort)20999));
        Assert.True(ports.Distinct().Count() > 40, string.Join(",", ports));
    }

    [Fact]
    public void Persistent_gives_a_client_the_same_address_for_all_its_connections()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { NatSeed = 5 });
        var persistent = Snat("192.0.2.1", "192.0.2.16") with { Flags = NatFlags.Persistent };
        var plain = Snat("192.0.2.1", "192.0.2.16");

        var persistentAddresses = Enumerable.Range(1, 12)
            .Select(i => Commit(ct, Frame.Ip("10.0.0.7", $"198.51.100.{i}").Udp((ushort)(3000 + i), 53).Payload(12).Build(), persistent).Nat.Src)
            .ToHashSet();
        var plainAddresses = Enumerable.Range(1, 12)
            .Select(i => Commit(ct, Frame.Ip("10.0.0.8", $"198.51.100.{i}").Udp((ushort)(3000 + i), 53).Payload(12).Build(), plain).Nat.Src)
            .ToHashSet();

        Assert.Single(persistentAddresses);
        Assert.True(plainAddresses.Count > 1);
    }

    [Fact]
    public void DNAT_with_a_port_range_picks_a_destination_port_of_it()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { NatSeed = 9 });
        var dnat = new NatArgs { Kind = NatKind.Destination, HasAddress = true, MinAddress = Ip("10.0.0.1"), MaxAddress = Ip("10.0.0.1"), MinPort = 8000, MaxPort = 8003 };

        var result = Commit(ct, Frame.Ip("203.0.113.7", "192.0.2.100").Tcp(5000, 80, TcpFlags.Syn, 1, 0).Build(), dnat);

        Assert.Equal(CtState.New | CtState.Tracked | CtState.DstNat, result.State);
        Assert.Equal(Ip("10.0.0.1"), result.Nat.Dst);
        Assert.InRange(result.Nat.DstPort, (ushort)8000, (ushort)8003);
        Assert.Equal((ushort)5000, result.Nat.SrcPort);
    }

    [Fact]
    public void An_expired_connection_frees_its_reply_tuple()
    {
        var ct = new CtHarness();
        Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne);
        ct.Now += 61_000;

        var again = Commit(ct, Frame.Ip("10.0.0.2", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne);

        Assert.Equal((ushort)5000, again.Nat.SrcPort);
        Assert.Equal(1, ct.Table.Count);
    }

    [Fact]
    public void A_flushed_connection_takes_its_reply_tuple_with_it()
    {
        var ct = new CtHarness();
        Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne);
        ct.Table.Flush();

        var reply = Exec(ct, Frame.Ip(Server, "192.0.2.100").Udp(53, 5000).Payload(12).Build(), NatArgs.Existing);

        Assert.Equal(CtState.New | CtState.Tracked, reply.State);
        Assert.True(reply.Nat.IsNone);
    }

    [Fact]
    public void A_packet_translated_in_its_zone_is_found_again_by_a_second_ct_there_and_not_translated_twice()
    {
        var ct = new CtHarness();
        var frame = Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build();
        var first = Commit(ct, frame, Snat("192.0.2.100", 6000, 6000));
        var translated = Frame.Ip("192.0.2.100", Server).Udp(6000, 53).Payload(12).Build();
        var metadata = default(PacketMetadata);
        first.ApplyTo(ref metadata);

        var second = ct.Table.Execute(CtHarness.Parse(translated, 0, metadata), new ConntrackArgs { Nat = NatArgs.Existing }, ct.Now);

        Assert.Equal(CtState.New | CtState.Tracked | CtState.SrcNat, second.State);
        Assert.True(second.Nat.IsNone);
        Assert.Equal(new ConntrackTuple(Ip("10.0.0.1"), Ip(Server), 5000, 53, 17, false), second.OriginalTuple);
    }

    [Fact]
    public void A_reserved_reply_tuple_is_answered_as_owned_elsewhere_and_taken_until_released()
    {
        var ct = new CtHarness();
        var owner = CtHarness.Parse(Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build()).Key;
        var reply = CtHarness.Parse(Frame.Ip(Server, "192.0.2.100").Udp(53, 5000).Payload(12).Build()).Key;

        Assert.True(ct.Table.TryReserveReplyTuple(in reply, in owner, ct.Now));
        var answer = Exec(ct, Frame.Ip(Server, "192.0.2.100").Udp(53, 5000).Payload(12).Build(), NatArgs.Existing);

        Assert.True(answer.OwnedElsewhere);
        Assert.True(ct.Table.TryGetReplyOwner(in reply, out var found));
        Assert.Equal(owner, found);
        Assert.Equal(ReplyClaim.Taken, ct.Table.TryClaim(in reply, ConntrackInputParser.ShardHashOf(in reply), in owner, ct.Now));
        var other = CtHarness.Parse(Frame.Ip("10.0.0.2", Server).Udp(5000, 53).Payload(12).Build()).Key;
        Assert.False(ct.Table.TryReserveReplyTuple(in reply, in other, ct.Now));
        Assert.True(ct.Table.TryReserveReplyTuple(in reply, in owner, ct.Now));
        Assert.Equal(ReplyUse.Reserved, ct.Table.CheckReplyTuple(in reply, ct.Now, out var holder));
        Assert.Equal(owner, holder);
        Assert.Equal(ConntrackInputParser.ShardHashOf(in owner), answer.OwnerHash);
        Assert.False(ct.Table.ReleaseReplyTuple(in reply, in other));
        Assert.Equal(0, ct.Table.Count);

        Assert.True(ct.Table.ReleaseReplyTuple(in reply));
        Assert.False(Exec(ct, Frame.Ip(Server, "192.0.2.100").Udp(53, 5000).Payload(12).Build(), NatArgs.Existing).OwnedElsewhere);
        Assert.Equal(0, ct.Table.ReservedReplyTuples);
    }

    [Fact]
    public void A_claim_elsewhere_keeps_the_reply_tuple_for_the_packets_sent_on_to_the_owner_and_releases_it_when_the_connection_goes()
    {
        var ct = new CtHarness();
        var claims = new ScriptedClaims(ReplyClaim.Taken, ReplyClaim.ClaimedElsewhere);
        ct.Table.ReplyTupleClaims = claims;

        var first = Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build(), SnatToOne);
        var input = CtHarness.Parse(Frame.Ip(Server, "192.0.2.100").Udp(53, 5001).Payload(12).Build());
        var reply = ct.Table.Execute(input.SentOnTo(ConntrackInputParser.ShardHashOf(ct.Table.Snapshot()[0].Key)), new ConntrackArgs { Nat = NatArgs.Existing }, ct.Now);
        var again = Exec(ct, Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build(), NatArgs.Existing);

        // The first candidate (port 5000) was refused, the second (5001) reserved in the other table.
        Assert.Equal([5000, 5001], claims.Asked.Select(k => (int)k.DstPort));
        Assert.Equal((ushort)5001, first.Nat.SrcPort);
        Assert.Equal(CtState.Established | CtState.Reply | CtState.Tracked | CtState.DstNat, reply.State);
        Assert.Equal((ushort)5001, again.Nat.SrcPort);
        Assert.Contains("dport=5001", ConntrackFormatter.FormatEntry(Assert.Single(ct.Table.Snapshot())), StringComparison.Ordinal);
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.NatReplyTupleElsewhere]);

        ct.Table.Flush();
        var releases = new List<ReplyRelease>();
        ct.Table.DrainReplyReleases(releases);
        var release = Assert.Single(releases);
        Assert.Equal((ushort)5001, release.Reply.DstPort);
        Assert.Equal((ushort)5000, release.Original.SrcPort);
    }

    [Fact]
    public void A_packet_sent_on_to_an_owner_that_no_longer_has_the_connection_goes_back_and_the_stale_reservation_goes()
    {
        var ct = new CtHarness();
        var owner = CtHarness.Parse(Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build()).Key;
        var input = CtHarness.Parse(Frame.Ip(Server, "192.0.2.100").Udp(53, 5000).Payload(12).Build());

        // At the owner (first hop): nothing found, so back to the tuple's own table.
        var atOwner = ct.Table.Execute(input.SentOnTo(ConntrackInputParser.ShardHashOf(in owner)), new ConntrackArgs { Nat = NatArgs.Existing }, ct.Now);
        Assert.True(atOwner.OwnedElsewhere);
        Assert.Equal(input.ShardHash, atOwner.OwnerHash);

        // Back at the tuple's table (second hop), whose reservation the owner disowned: a new packet.
        var home = new CtHarness();
        Assert.True(home.Table.TryReserveReplyTuple(in input.Key, in owner, home.Now));
        var back = home.Table.Execute(input.SentOnTo(ConntrackInputParser.ShardHashOf(in owner)).SentOnTo(atOwner.OwnerHash), new ConntrackArgs { Nat = NatArgs.Existing }, home.Now);
        Assert.False(back.OwnedElsewhere);
        Assert.Equal(CtState.New | CtState.Tracked, back.State);
        Assert.Equal(0, home.Table.ReservedReplyTuples);
    }

    [Fact]
    public void A_search_that_must_wait_stops_the_batch_at_its_packet_and_runs_again_the_same_way()
    {
        var ct = new CtHarness();
        var claims = new ScriptedClaims(ReplyClaim.Taken, ReplyClaim.Pending, ReplyClaim.Taken, ReplyClaim.ClaimedElsewhere);
        ct.Table.ReplyTupleClaims = claims;
        var inputs = new[]
        {
            CtHarness.Parse(Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(12).Build()),
            CtHarness.Parse(Frame.Ip("10.0.0.1", Server).Udp(5000, 53).Payload(13).Build()),
        };
        var args = new ConntrackArgs { Commit = true, Nat = SnatToOne };
        var results = new ConntrackResult[2];

        Assert.Equal(0, ct.Table.ExecuteUntilClaim(inputs, in args, ct.Now, results));
        Assert.True(ct.Table.PendingClaim);
        Assert.Equal(0, ct.Table.Count);

        Assert.Equal(2, ct.Table.ExecuteUntilClaim(inputs, in args, ct.Now, results));
        Assert.Equal([5000, 5001, 5000, 5001], claims.Asked.Select(k => (int)k.DstPort));
        Assert.Equal((ushort)5001, results[0].Nat.SrcPort);
        Assert.Equal((ushort)5001, results[1].Nat.SrcPort);
        Assert.Equal(1, ct.Table.Count);
    }

    [Fact]
    public void ICMP_echo_ids_are_not_moved_so_a_second_host_with_the_same_id_is_not_translated()
    {
        var ct = new CtHarness();
        var first = Commit(ct, Frame.Ip("10.0.0.1", Server).IcmpEcho(8, 42).Build(), SnatToOne);
        var second = Commit(ct, Frame.Ip("10.0.0.2", Server).IcmpEcho(8, 42).Build(), SnatToOne);

        Assert.Equal(Ip("192.0.2.100"), first.Nat.Src);
        Assert.True(second.Nat.IsNone);
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.NatExhausted]);
    }

    private static NatArgs Snat(string address, ushort minPort = 0, ushort maxPort = 0) => Snat(address, address) with { MinPort = minPort, MaxPort = maxPort };

    private static NatArgs Snat(string min, string max) =>
        new() { Kind = NatKind.Source, HasAddress = true, MinAddress = Ip(min), MaxAddress = Ip(max) };

    private static ConntrackResult Commit(CtHarness ct, byte[] frame, NatArgs nat, ushort zone = 0) =>
        ct.Table.Execute(CtHarness.Parse(frame, zone), new ConntrackArgs { Zone = zone, Commit = true, Nat = nat }, ct.Now);

    private static ConntrackResult Exec(CtHarness ct, byte[] frame, NatArgs nat) =>
        ct.Table.Execute(CtHarness.Parse(frame), new ConntrackArgs { Nat = nat }, ct.Now);

    private static UInt128 Ip(string address)
    {
        UInt128 n = 0;
        foreach (byte b in IPAddress.Parse(address).GetAddressBytes())
        {
            n = (n << 8) | b;
        }

        return n;
    }

    private sealed class ScriptedClaims(params ReplyClaim[] answers) : IReplyTupleClaims
    {
        private int _next;

        public List<ConntrackKey> Asked { get; } = [];

        public ReplyClaim TryClaim(in ConntrackKey reply, uint replyHash, in ConntrackKey original, long nowMs)
        {
            Asked.Add(reply);
            return _next < answers.Length ? answers[_next++] : ReplyClaim.Taken;
        }
    }
}
