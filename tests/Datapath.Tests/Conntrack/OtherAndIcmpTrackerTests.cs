using Datapath.Conntrack;
using static Datapath.Tests.Conntrack.CtFrames;
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
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 33087, 53)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Udp(H2, H1, 53, 33087)));
        Assert.Equal(S("est|trk"), _ct.State(Udp(H1, H2, 33087, 53)));
        Assert.Equal(TimeoutClass.OtherBidirectional, Assert.Single(_ct.Table.Snapshot()).Timeout);
    }

    [Fact]
    public void Udp_stays_new_until_a_reply_is_seen()
    {
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 5000, 5001)));
        Assert.Equal(TimeoutClass.OtherFirst, Assert.Single(_ct.Table.Snapshot()).Timeout);
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 5000, 5001)));
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 5000, 5001)));
        Assert.Equal(TimeoutClass.OtherMultiple, Assert.Single(_ct.Table.Snapshot()).Timeout);

        Assert.Equal(S("est|rpl|trk"), _ct.State(Udp(H2, H1, 5001, 5000)));
        Assert.Equal(S("est|trk"), _ct.State(Udp(H1, H2, 5000, 5001)));
    }

    [Fact]
    public void Udp_flows_with_different_ports_are_different_connections()
    {
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 5000, 5001)));
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 5000, 5002)));
        Assert.Equal(S("new|trk"), _ct.State(Udp(H2, H1, 5000, 5001)));
        Assert.Equal(3, _ct.Table.Count);
    }

    [Fact]
    public void Other_protocols_track_on_addresses_alone()
    {
        // GRE (47): no ports; first, reply, established, as UDP.
        byte[] there = Ip(H1, H2, 47, new byte[8], checksumOffset: -1);
        byte[] back = Ip(H2, H1, 47, new byte[8], checksumOffset: -1);

        Assert.Equal(S("new|trk"), _ct.State(there));
        Assert.Equal(S("est|rpl|trk"), _ct.State(back));
        Assert.Equal("47,orig=(src=10.0.0.1,dst=10.0.0.2,sport=0,dport=0),reply=(src=10.0.0.2,dst=10.0.0.1,sport=0,dport=0)",
            ConntrackFormatter.FormatEntry(Assert.Single(_ct.Table.Snapshot())));
    }

    [Fact]
    public void Ipv6_udp_tracks_like_ipv4()
    {
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1v6, H2v6, 40000, 33434)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Udp(H2v6, H1v6, 33434, 40000)));
    }

    [Fact]
    public void Echo_request_is_new_reply_established_reply_and_the_next_request_established()
    {
        Assert.Equal(S("new|trk"), _ct.State(IcmpEcho(H1, H2, 8, 6991, 1)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(IcmpEcho(H2, H1, 0, 6991, 1)));
        Assert.Equal(S("est|trk"), _ct.State(IcmpEcho(H1, H2, 8, 6991, 2)));
        Assert.Equal(TimeoutClass.IcmpReply, Assert.Single(_ct.Table.Snapshot()).Timeout);
    }

    [Fact]
    public void Echo_requests_stay_new_until_a_reply()
    {
        Assert.Equal(S("new|trk"), _ct.State(IcmpEcho(H1, H2, 8, 7, 1)));
        Assert.Equal(S("new|trk"), _ct.State(IcmpEcho(H1, H2, 8, 7, 2)));
        Assert.Equal(TimeoutClass.IcmpFirst, Assert.Single(_ct.Table.Snapshot()).Timeout);
    }

    [Fact]
    public void Echoes_with_different_ids_are_different_connections()
    {
        Assert.Equal(S("new|trk"), _ct.State(IcmpEcho(H1, H2, 8, 1)));
        Assert.Equal(S("new|trk"), _ct.State(IcmpEcho(H1, H2, 8, 2)));
        Assert.Equal(S("inv|trk"), _ct.State(IcmpEcho(H2, H1, 0, 3)));
    }

    [Fact]
    public void An_echo_reply_without_a_request_is_invalid()
    {
        Assert.Equal(S("inv|trk"), _ct.State(IcmpEcho(H2, H1, 0, 6992)));
        Assert.Equal(0, _ct.Table.Count);
    }

    [Fact]
    public void An_echo_with_a_non_zero_code_is_invalid()
    {
        Assert.Equal(S("inv|trk"), _ct.State(IcmpEcho(H1, H2, 8, 5, code: 1)));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.UnsupportedIcmp]);
    }

    [Fact]
    public void Port_unreachable_quoting_a_tracked_udp_datagram_is_related_reply()
    {
        byte[] probe = Udp(H1, H2, 46026, 33434);
        Assert.Equal(S("new|trk"), _ct.State(probe));

        var result = _ct.Send(IcmpError(H2, H1, 3, 3, probe));

        // icmp.ct line 24: rel|rpl|trk, and the original tuple is the UDP connection's.
        Assert.Equal(S("rel|rpl|trk"), result.State);
        Assert.Equal(new ConntrackTuple(0x0A000001, 0x0A000002, 46026, 33434, 17, false), result.OriginalTuple);
    }

    [Fact]
    public void An_icmp_error_quoting_a_reply_direction_datagram_is_related_without_rpl()
    {
        byte[] query = Udp(H1, H2, 1111, 53);
        _ct.State(query);
        byte[] answer = Udp(H2, H1, 53, 1111);
        _ct.State(answer);

        // h1 cannot deliver h2's answer: the error travels in the original direction.
        Assert.Equal(S("rel|trk"), _ct.State(IcmpError(H1, H2, 3, 3, answer)));
    }

    [Fact]
    public void Time_exceeded_quoting_a_tcp_syn_is_related()
    {
        byte[] syn = Tcp(H1, H2, 40000, 80, 1, 0, Syn);
        _ct.State(syn);

        Assert.Equal(S("rel|rpl|trk"), _ct.State(IcmpError(H2, H1, 11, 0, syn)));
    }

    [Fact]
    public void An_icmp_error_about_an_unknown_connection_is_invalid_and_creates_nothing()
    {
        byte[] probe = Udp(H1, H2, 46026, 33434);

        Assert.Equal(S("inv|trk"), _ct.State(IcmpError(H2, H1, 3, 3, probe)));
        Assert.Equal(0, _ct.Table.Count);
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.IcmpErrorWithoutConnection]);
    }

    [Fact]
    public void An_icmp_error_whose_quoted_source_is_not_its_destination_is_invalid()
    {
        byte[] probe = Udp(H1, H2, 46026, 33434);
        _ct.State(probe);

        Assert.Equal(S("inv|trk"), _ct.State(IcmpError(H2, "10.0.0.3", 3, 3, probe)));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.BadIcmpError]);
    }

    [Fact]
    public void An_icmp_error_quoting_too_little_of_the_datagram_is_invalid()
    {
        byte[] probe = Udp(H1, H2, 46026, 33434);
        _ct.State(probe);

        // 20 bytes of IP header and only 4 of UDP: OVS needs 8.
        Assert.Equal(S("inv|trk"), _ct.State(IcmpError(H2, H1, 3, 3, probe, quotedBytes: 24)));
    }

    [Fact]
    public void An_icmp_error_about_an_icmp_error_is_invalid()
    {
        byte[] probe = Udp(H1, H2, 46026, 33434);
        _ct.State(probe);
        byte[] error = IcmpError(H2, H1, 3, 3, probe);

        Assert.Equal(S("inv|trk"), _ct.State(IcmpError(H1, H2, 3, 1, error, quotedBytes: 36)));
    }

    [Fact]
    public void Icmpv6_echo_and_port_unreachable_follow_icmp()
    {
        Assert.Equal(S("new|trk"), _ct.State(IcmpEcho(H1v6, H2v6, 128, 9)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(IcmpEcho(H2v6, H1v6, 129, 9)));
        Assert.Equal(S("inv|trk"), _ct.State(IcmpEcho(H2v6, H1v6, 129, 10)));

        byte[] probe = Udp(H1v6, H2v6, 40000, 33434);
        Assert.Equal(S("new|trk"), _ct.State(probe));
        Assert.Equal(S("rel|rpl|trk"), _ct.State(IcmpError(H2v6, H1v6, 1, 4, probe, quotedBytes: 48)));
    }

    [Fact]
    public void Neighbour_discovery_is_not_tracked()
    {
        // ipv6.ct lines 1-2: neighbour solicitation and advertisement are inv|trk.
        Assert.Equal(S("inv|trk"), _ct.State(IcmpEcho(H1v6, "ff02::1:ff00:2", 135, 0)));
        Assert.Equal(S("inv|trk"), _ct.State(IcmpEcho(H2v6, H1v6, 136, 0)));
    }

    [Fact]
    public void Dump_shows_icmp_with_id_type_and_code()
    {
        _ct.State(IcmpEcho(H1, H2, 8, 6991));

        Assert.Equal(
            "icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=6991,type=8,code=0),reply=(src=10.0.0.2,dst=10.0.0.1,id=6991,type=0,code=0)",
            ConntrackFormatter.FormatEntry(Assert.Single(_ct.Table.Snapshot())));
    }
}
