using TestSupport.Frames;
using Datapath.Tests.Support;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// The rest of Open vSwitch's conntrack surface as library calls: timeout policies (named and per
/// zone), connection and zone limits, TCP sequence checking on and off, flush filters and the
/// dpctl texts (lib/dpctl.c) the control channel will print.
/// </summary>
public sealed class ConntrackSurfaceTests
{
    private const string Server = "198.51.100.53";

    [Fact]
    public void A_named_policy_and_a_zone_policy_set_a_new_connection_timeouts()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with
        {
            TimeoutPolicies = new Dictionary<string, ConntrackTimeouts> { ["short"] = Defaults.ConntrackOptions.Timeouts with { UdpFirstMs = 5_000 } },
            ZoneTimeoutPolicies = new Dictionary<ushort, string> { [3] = "short" },
        });

        Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(1000, 53).Payload(12).Build(), zone: 0, policy: "short");
        Commit(ct, Frame.Ip("10.0.0.2", Server).Udp(1000, 53).Payload(12).Build(), zone: 3);
        Commit(ct, Frame.Ip("10.0.0.3", Server).Udp(1000, 53).Payload(12).Build(), zone: 0);
        Commit(ct, Frame.Ip("10.0.0.4", Server).Udp(1000, 53).Payload(12).Build(), zone: 0, policy: "nonesuch");

        var snapshot = ct.Table.Snapshot();
        Assert.Equal([5_000L, 5_000, 60_000, 60_000], snapshot.Select(e => e.ExpirationMs - ct.Now));
        Assert.Equal(["short", "short", null, null], snapshot.Select(e => e.TimeoutPolicy));
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.UnknownTimeoutPolicy]);

        Assert.Equal(2, ct.Table.Sweep(ct.Now + 5_000, int.MaxValue));
        Assert.Equal(2, ct.Table.Count);
    }

    [Fact]
    public void Changing_a_policy_applies_to_new_connections_and_old_ones_keep_their_timeouts()
    {
        var ct = new CtHarness();
        ct.Table.SetTimeoutPolicy("p", Defaults.ConntrackOptions.Timeouts with { UdpFirstMs = 5_000 });
        ct.Table.SetZoneTimeoutPolicy(1, "p");
        Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(1000, 53).Payload(12).Build(), zone: 1);
        ct.Table.SetTimeoutPolicy("p", Defaults.ConntrackOptions.Timeouts with { UdpFirstMs = 9_000 });
        Commit(ct, Frame.Ip("10.0.0.2", Server).Udp(1000, 53).Payload(12).Build(), zone: 1);

        Assert.Equal([5_000L, 9_000], ct.Table.Snapshot().Select(e => e.ExpirationMs - ct.Now));
        Assert.Equal(1, ct.Table.Sweep(ct.Now + 5_000, int.MaxValue));
        Assert.Equal(1, ct.Table.Sweep(ct.Now + 9_000, int.MaxValue));
        Assert.Throws<ArgumentException>(() => ct.Table.SetZoneTimeoutPolicy(2, "nonesuch"));
    }

    [Fact]
    public void Zone_limits_have_a_default_an_own_limit_wins_and_deleting_it_brings_the_default_back()
    {
        var ct = new CtHarness();
        ct.Table.DefaultZoneLimit = 1;
        ct.Table.SetZoneLimit(5, 2);

        Assert.False(Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(1, 53).Payload(12).Build(), zone: 4).Drop);
        Assert.True(Commit(ct, Frame.Ip("10.0.0.2", Server).Udp(1, 53).Payload(12).Build(), zone: 4).Drop);
        Assert.False(Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(1, 53).Payload(12).Build(), zone: 5).Drop);
        Assert.False(Commit(ct, Frame.Ip("10.0.0.2", Server).Udp(1, 53).Payload(12).Build(), zone: 5).Drop);
        Assert.True(Commit(ct, Frame.Ip("10.0.0.3", Server).Udp(1, 53).Payload(12).Build(), zone: 5).Drop);
        Assert.Equal(2, ct.Table.Stats[ConntrackCounter.ZoneLimitDrop]);

        Assert.True(ct.Table.RemoveZoneLimit(5));
        Assert.Equal(1, ct.Table.ZoneLimitOf(5));
        ct.Table.SetZoneLimit(4, 0);
        Assert.False(Commit(ct, Frame.Ip("10.0.0.3", Server).Udp(1, 53).Payload(12).Build(), zone: 4).Drop);
    }

    [Fact]
    public void Maxconns_limits_commits_at_run_time()
    {
        var ct = new CtHarness();
        ct.Table.MaxConnections = 1;

        Assert.False(Commit(ct, Frame.Ip("10.0.0.1", Server).Udp(1, 53).Payload(12).Build()).Drop);
        Assert.True(Commit(ct, Frame.Ip("10.0.0.2", Server).Udp(1, 53).Payload(12).Build()).Drop);
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.GlobalLimitDrop]);
    }

    [Fact]
    public void With_sequence_checking_off_an_out_of_window_segment_is_established_not_invalid()
    {
        foreach (bool check in new[] { true, false })
        {
            var ct = new CtHarness(Defaults.ConntrackOptions with { TcpSequenceCheck = check });
            ct.Send(Frame.Ip(CtHarness.H1, CtHarness.H2).Tcp(40000, 80, TcpFlags.Syn, 100, 0).Build());
            ct.Send(Frame.Ip(CtHarness.H2, CtHarness.H1).Tcp(80, 40000, TcpFlags.Syn | TcpFlags.Ack, 900, 101).Build());
            ct.Send(Frame.Ip(CtHarness.H1, CtHarness.H2).Tcp(40000, 80, TcpFlags.Ack, 101, 901).Build());

            var wild = ct.State(Frame.Ip(CtHarness.H1, CtHarness.H2).Tcp(40000, 80, TcpFlags.Ack, 3_000_000_000, 901).Payload(10).Build());

            Assert.Equal(check ? CtState.Invalid | CtState.Tracked : CtState.Established | CtState.Tracked, wild);
        }
    }

    [Fact]
    public void Flush_filters_select_by_zone_mark_labels_and_partial_or_whole_tuples()
    {
        var ct = new CtHarness();
        ct.Send(Frame.Ip("10.0.0.1", Server).Udp(1000, 53).Payload(12).Build(), zone: 1, mark: 0x12, markMask: 0xff);
        ct.Send(Frame.Ip("10.0.0.2", Server).Udp(1000, 53).Payload(12).Build(), zone: 1, label: 0x100, labelMask: 0xfff);
        ct.Send(Frame.Ip("10.0.0.3", Server).Udp(1000, 53).Payload(12).Build(), zone: 2);
        ct.Send(Frame.Ip("10.0.0.4", Server).Tcp(2000, 80, TcpFlags.Syn, 1, 0).Build(), zone: 0);

        Assert.Equal(0, ct.Table.Flush(ConntrackFlushFilter.Parse(["zone=3"])));
        Assert.Equal(1, ct.Table.Flush(ConntrackFlushFilter.Parse(["mark=0x10/0xf0"])));
        Assert.Equal(1, ct.Table.Flush(ConntrackFlushFilter.Parse(["labels=0x100/0xf00"])));

        // A whole tuple names one connection, in either direction, in zone 0 unless a zone is given.
        Assert.Equal(0, ct.Table.Flush(ConntrackFlushFilter.Parse([$"ct_nw_src={Server},ct_nw_dst=10.0.0.3,ct_nw_proto=17,ct_tp_src=53,ct_tp_dst=1000"])));
        Assert.Equal(1, ct.Table.Flush(ConntrackFlushFilter.Parse(["zone=2", $"ct_nw_src={Server},ct_nw_dst=10.0.0.3,ct_nw_proto=17,ct_tp_src=53,ct_tp_dst=1000"])));

        // A partial reply tuple is compared with the reply direction only.
        Assert.Equal(0, ct.Table.Flush(ConntrackFlushFilter.Parse(["", "ct_nw_src=10.0.0.4"])));
        Assert.Equal(1, ct.Table.Flush(ConntrackFlushFilter.Parse(["", "ct_nw_dst=10.0.0.4,ct_nw_proto=6"])));
        Assert.Equal(0, ct.Table.Count);
    }

    [Theory]
    [InlineData("ct_nw_src=10.0.0.1,ct_ipv6_dst=fd00::1", "the L3 protocol does not match fd00::1")]
    [InlineData("ct_tp_src=5", "port is set without protocol")]
    [InlineData("ct_nw_src=10.0.0.999", "failed to parse field ct_nw_src")]
    [InlineData("icmp_id=3", "invalid L4 fields")]
    [InlineData("bogus=1", "invalid conntrack tuple field: bogus")]
    [InlineData("ct_nw_src=10.1", "failed to parse field ct_nw_src")]
    [InlineData("ct_nw_src=167772161", "failed to parse field ct_nw_src")]
    [InlineData("ct_nw_dst=0x0a.0.0.1", "failed to parse field ct_nw_dst")]
    [InlineData("ct_ipv6_src=fe80::1%eth0", "failed to parse field ct_ipv6_src")]
    [InlineData("ct_ipv6_dst=[fd00::1]", "failed to parse field ct_ipv6_dst")]
    public void A_bad_flush_tuple_is_refused_with_Open_vSwitch_words(string tuple, string message)
    {
        var error = Assert.Throws<FormatException>(() => ConntrackFlushFilter.Parse([tuple]));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_flush_address_with_leading_zeros_is_read_in_decimal_not_octal()
    {
        // IPAddress.TryParse reads "010.0.0.1" as 8.0.0.1, and the flush would remove another host's connections.
        var filter = ConntrackFlushFilter.Parse(["ct_nw_src=010.0.0.1"]);

        Assert.Equal((UInt128)0x0a000001, filter.Original?.Src);
    }

    [Fact]
    public void Dpctl_commands_print_what_Open_vSwitch_prints()
    {
        var ct = new CtHarness();
        ct.Send(Frame.Ip("10.0.0.1", Server).Udp(1000, 53).Payload(12).Build(), zone: 1);
        ct.Send(Frame.Ip("10.0.0.2", Server).Udp(1000, 53).Payload(12).Build(), zone: 1);
        ct.Send(Frame.Ip("10.0.0.4", Server).Tcp(2000, 80, TcpFlags.Syn, 1, 0).Build());
        ct.Send(Frame.Ip("10.0.0.5", Server).IcmpEcho(8, 7).Build());

        string Run(string command, params string[] args) => DpctlConntrack.Run(ct.Table, command, args, ct.Now);

        Assert.Equal("Connections Stats:\n    Total: 4\n  TCP: 1\n  UDP: 2\n  ICMP: 1\n", Run("ct-stats-show"));
        Assert.Equal("Connections Stats:\n    Total: 4\n  TCP: 1\n    Conn per TCP states:\n\t\tSYN_SENT : 1\n  UDP: 2\n  ICMP: 1\n", Run("ct-stats-show", "verbose"));
        Assert.Equal("Connections Stats:\n    Total: 2\n  UDP: 2\n", Run("ct-stats-show", "zone=1"));
        Assert.Equal("4\n", Run("ct-get-nconns"));
        Assert.Equal("setting maxconns successful", Run("ct-set-maxconns", "10"));
        Assert.Equal("10\n", Run("ct-get-maxconns"));
        Assert.Equal("disabling TCP sequence checking successful", Run("ct-disable-tcp-seq-chk"));
        Assert.Equal("TCP sequence checking: disabled\n", Run("ct-get-tcp-seq-chk"));
        Assert.Equal(string.Empty, Run("ct-set-limits", "default=5", "zone=1,limit=3", "zone=7,limit=9"));
        Assert.Equal("default limit=5\nzone=1,limit=3,count=2\nzone=7,limit=9,count=0\n", Run("ct-get-limits"));
        Assert.Equal("default limit=5\nzone=2,limit=5,count=0\n", Run("ct-get-limits", "zone=2"));
        Assert.Equal(string.Empty, Run("ct-del-limits", "zone=7"));
        Assert.Equal("default limit=5\nzone=1,limit=3,count=2\n", Run("ct-get-limits"));
        Assert.Equal(
            $"udp,orig=(src=10.0.0.1,dst={Server},sport=1000,dport=53),reply=(src={Server},dst=10.0.0.1,sport=53,dport=1000),zone=1,timeout=60\n"
            + $"udp,orig=(src=10.0.0.2,dst={Server},sport=1000,dport=53),reply=(src={Server},dst=10.0.0.2,sport=53,dport=1000),zone=1,timeout=60\n",
            Run("dump-conntrack", "-s", "zone=1"));
        Assert.Equal(string.Empty, Run("flush-conntrack", "zone=1"));
        Assert.Equal("2\n", Run("ct-get-nconns"));

        Assert.Equal("invalid default limit", Assert.Throws<FormatException>(() => Run("ct-set-limits", "default=x")).Message);
        Assert.Equal("invalid zone limit field: size", Assert.Throws<FormatException>(() => Run("ct-set-limits", "zone=1,size=3")).Message);
        Assert.Equal("failed to parse zone limit", Assert.Throws<FormatException>(() => Run("ct-set-limits", "zone=1")).Message);
        Assert.Equal("maxconns missing or malformed", Assert.Throws<FormatException>(() => Run("ct-set-maxconns", "lots")).Message);
        Assert.Equal("invalid zone", Assert.Throws<FormatException>(() => Run("ct-del-limits", "zone=1,x")).Message);
    }

    private static ConntrackResult Commit(CtHarness ct, byte[] frame, ushort zone = 0, string? policy = null) =>
        ct.Table.Execute(CtHarness.Parse(frame, zone), new ConntrackArgs { Zone = zone, Commit = true, TimeoutPolicy = policy }, ct.Now);
}
