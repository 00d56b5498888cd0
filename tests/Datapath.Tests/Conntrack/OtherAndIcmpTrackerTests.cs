using Datapath.Conntrack;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// UDP (and other protocols) and ICMP echo pseudo-connections, and ICMP errors as related, from
/// the expected captures (udp-dns, udp-stream, icmp, ipv6) and the design's rule that a connection
/// stays new until a reply is seen.
/// </summary>
public class OtherAndIcmpTrackerTests
{
    private readonly CtHarness _ct = new();

    [Fact]
    public void Udp_query_is_new_and_its_response_established_reply()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(33087, 53).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2, H1).Udp(53, 33087).Build()));
        Assert.Equal(S("est|trk"), _ct.State(Frame.Ip(H1, H2).Udp(33087, 53).Build()));
        Assert.Equal(TimeoutClass.OtherBidirectional, Assert.Single(_ct.Table.Snapshot()).Timeout);
    }

    [Fact]
    public void Udp_stays_new_until_a_reply_is_seen()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(5000, 5001).Build()));
        Assert.Equal(TimeoutClass.OtherFirst, Assert.Single(_ct.Table.Snapshot()).Timeout);
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(5000, 5001).Build()));
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(5000, 5001).Build()));
        Assert.Equal(TimeoutClass.OtherMultiple, Assert.Single(_ct.Table.Snapshot()).Timeout);

        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2, H1).Udp(5001, 5000).Build()));
        Assert.Equal(S("est|trk"), _ct.State(Frame.Ip(H1, H2).Udp(5000, 5001).Build()));
    }

    [Fact]
    public void Udp_flows_with_different_ports_are_different_connections()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(5000, 5001).Build()));
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(5000, 5002).Build()));
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H2, H1).Udp(5000, 5001).Build()));
        Assert.Equal(3, _ct.Table.Count);
    }

    [Fact]
    public void Other_protocols_track_on_addresses_alone()
    {
        // GRE (47): no ports; first, reply, established, as UDP.
        byte[] there = Frame.Ip(H1, H2).Transport(47, new byte[8]).Build();
        byte[] back = Frame.Ip(H2, H1).Transport(47, new byte[8]).Build();

        Assert.Equal(S("new|trk"), _ct.State(there));
        Assert.Equal(S("est|rpl|trk"), _ct.State(back));
        Assert.Equal("47,orig=(src=10.0.0.1,dst=10.0.0.2,sport=0,dport=0),reply=(src=10.0.0.2,dst=10.0.0.1,sport=0,dport=0)",
            ConntrackFormatter.FormatEntry(Assert.Single(_ct.Table.Snapshot())));
    }

    [Fact]
    public void Ipv6_udp_tracks_like_ipv4()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1v6, H2v6).Udp(40000, 33434).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2v6, H1v6).Udp(33434, 40000).Build()));
    }

    [Fact]
    public void Echo_request_is_new_reply_established_reply_and_the_next_request_established()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 6991).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2, H1).IcmpEcho(0, 6991).Build()));
        Assert.Equal(S("est|trk"), _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 6991, 2).Build()));
        Assert.Equal(TimeoutClass.IcmpReply, Assert.Single(_ct.Table.Snapshot()).Timeout);
    }

    [Fact]
    public void Echo_requests_stay_new_until_a_reply()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 7).Build()));
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 7, 2).Build()));
        Assert.Equal(TimeoutClass.IcmpFirst, Assert.Single(_ct.Table.Snapshot()).Timeout);
    }

    [Fact]
    public void Echoes_with_different_ids_are_different_connections()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 1).Build()));
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 2).Build()));
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2, H1).IcmpEcho(0, 3).Build()));
    }

    [Fact]
    public void An_echo_reply_without_a_request_is_invalid()
    {
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2, H1).IcmpEcho(0, 6992).Build()));
        Assert.Equal(0, _ct.Table.Count);
    }

    [Fact]
    public void An_echo_with_a_non_zero_code_is_invalid()
    {
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H1, H2).Icmp(8, 1, rest: (5u << 16) | 1u).Build()));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.UnsupportedIcmp]);
    }

    [Fact]
    public void Port_unreachable_quoting_a_tracked_udp_datagram_is_related_reply()
    {
        byte[] probe = Frame.Ip(H1, H2).Udp(46026, 33434).Build();
        Assert.Equal(S("new|trk"), _ct.State(probe));

        var result = _ct.Send(Frame.Ip(H2, H1).IcmpError(3, 3, probe, quotedBytes: 28).Build());

        // icmp.ct line 24: rel|rpl|trk, and the original tuple is the UDP connection's.
        Assert.Equal(S("rel|rpl|trk"), result.State);
        Assert.Equal(new ConntrackTuple(0x0A000001, 0x0A000002, 46026, 33434, 17, false), result.OriginalTuple);
    }

    [Fact]
    public void An_icmp_error_quoting_a_reply_direction_datagram_is_related_without_rpl()
    {
        byte[] query = Frame.Ip(H1, H2).Udp(1111, 53).Build();
        _ct.State(query);
        byte[] answer = Frame.Ip(H2, H1).Udp(53, 1111).Build();
        _ct.State(answer);

        // h1 cannot deliver h2's answer: the error travels in the original direction.
        Assert.Equal(S("rel|trk"), _ct.State(Frame.Ip(H1, H2).IcmpError(3, 3, answer, quotedBytes: 28).Build()));
    }

    [Fact]
    public void Time_exceeded_quoting_a_tcp_syn_is_related()
    {
        byte[] syn = Frame.Ip(H1, H2).Tcp(40000, 80, Syn, 1, 0).Build();
        _ct.State(syn);

        Assert.Equal(S("rel|rpl|trk"), _ct.State(Frame.Ip(H2, H1).IcmpError(11, 0, syn, quotedBytes: 28).Build()));
    }

    [Fact]
    public void An_icmp_error_about_an_unknown_connection_is_invalid_and_creates_nothing()
    {
        byte[] probe = Frame.Ip(H1, H2).Udp(46026, 33434).Build();

        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2, H1).IcmpError(3, 3, probe, quotedBytes: 28).Build()));
        Assert.Equal(0, _ct.Table.Count);
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.IcmpErrorWithoutConnection]);
    }

    [Fact]
    public void An_icmp_error_whose_quoted_source_is_not_its_destination_is_invalid()
    {
        byte[] probe = Frame.Ip(H1, H2).Udp(46026, 33434).Build();
        _ct.State(probe);

        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2, "10.0.0.3").IcmpError(3, 3, probe, quotedBytes: 28).Build()));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.BadIcmpError]);
    }

    [Fact]
    public void An_icmp_error_quoting_too_little_of_the_datagram_is_invalid()
    {
        byte[] probe = Frame.Ip(H1, H2).Udp(46026, 33434).Build();
        _ct.State(probe);

        // 20 bytes of IP header and only 4 of UDP: OVS needs 8.
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2, H1).IcmpError(3, 3, probe, quotedBytes: 24).Build()));
    }

    [Fact]
    public void An_icmp_error_about_an_icmp_error_is_invalid()
    {
        byte[] probe = Frame.Ip(H1, H2).Udp(46026, 33434).Build();
        _ct.State(probe);
        byte[] error = Frame.Ip(H2, H1).IcmpError(3, 3, probe, quotedBytes: 28).Build();

        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H1, H2).IcmpError(3, 1, error, quotedBytes: 36).Build()));
    }

    [Fact]
    public void Icmpv6_echo_and_port_unreachable_follow_icmp()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1v6, H2v6).IcmpEcho(128, 9).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2v6, H1v6).IcmpEcho(129, 9).Build()));
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2v6, H1v6).IcmpEcho(129, 10).Build()));

        byte[] probe = Frame.Ip(H1v6, H2v6).Udp(40000, 33434).Build();
        Assert.Equal(S("new|trk"), _ct.State(probe));
        Assert.Equal(S("rel|rpl|trk"), _ct.State(Frame.Ip(H2v6, H1v6).IcmpError(1, 4, probe, quotedBytes: 48).Build()));
    }

    [Fact]
    public void Neighbour_discovery_is_not_tracked()
    {
        // ipv6.ct lines 1-2: neighbour solicitation and advertisement are inv|trk.
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H1v6, "ff02::1:ff00:2").IcmpEcho(135, 0).Build()));
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2v6, H1v6).IcmpEcho(136, 0).Build()));
    }

    [Fact]
    public void Dump_shows_icmp_with_id_type_and_code()
    {
        _ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 6991).Build());

        Assert.Equal(
            "icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=6991,type=8,code=0),reply=(src=10.0.0.2,dst=10.0.0.1,id=6991,type=0,code=0)",
            ConntrackFormatter.FormatEntry(Assert.Single(_ct.Table.Snapshot())));
    }
}
