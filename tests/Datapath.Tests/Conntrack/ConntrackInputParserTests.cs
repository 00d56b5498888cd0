using Datapath.Conntrack;
using Datapath.Packets;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// What conntrack refuses to key (OVS conn_key_extract): non-IP, fragments, bad L3/L4 checksums,
/// port 0; and the symmetric shard hash the actor layer routes on.
/// </summary>
public class ConntrackInputParserTests
{
    private readonly CtHarness _ct = new();

    [Fact]
    public void Arp_is_invalid_and_tracked()
    {
        var result = _ct.Send(Frame.Ethernet(Frame.Mac1, "ff:ff:ff:ff:ff:ff").Arp(1, Frame.Mac1, H1, "00:00:00:00:00:00", H2).Build());

        Assert.Equal(S("inv|trk"), result.State);
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.NotIp]);
        Assert.Equal(default, result.OriginalTuple);
    }

    [Fact]
    public void A_bad_ipv4_header_checksum_is_invalid()
    {
        byte[] frame = Frame.Ip(H1, H2).Udp(1, 2).Build();
        frame[24] ^= 0x55;

        Assert.Equal(S("inv|trk"), _ct.State(frame));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.L3Checksum]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_bad_l4_checksum_is_invalid(bool ipv6)
    {
        byte[] tcp = ipv6 ? Frame.Ip(H1v6, H2v6).Tcp(1000, 80, Syn, 1, 0).Build() : Frame.Ip(H1, H2).Tcp(1000, 80, Syn, 1, 0).Build();
        tcp[^1] ^= 0xFF;
        tcp[^2] ^= 0x0F;

        Assert.Equal(S("inv|trk"), _ct.State(tcp));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.L4Checksum]);
    }

    [Fact]
    public void A_bad_icmp_checksum_is_invalid()
    {
        byte[] echo = Frame.Ip(H1, H2).IcmpEcho(8, 1).Build();
        echo[^1] ^= 1;

        Assert.Equal(S("inv|trk"), _ct.State(echo));
    }

    [Fact]
    public void A_zero_udp_checksum_means_none_over_ipv4_but_is_invalid_over_ipv6()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Udp(7, 9).Checksum(0).Build()));
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H1v6, H2v6).Udp(7, 9).Checksum(0).Build()));
    }

    [Fact]
    public void Port_zero_is_invalid()
    {
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H1, H2).Udp(0, 53).Build()));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.PortZero]);
    }

    [Fact]
    public void An_ipv4_fragment_is_invalid_until_reassembled()
    {
        byte[] frame = Frame.Ip(H1, H2).Fragment(0, more: true).Udp(1000, 2000).Payload(64).Build();

        Assert.Equal(S("inv|trk"), _ct.State(frame));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.Fragment]);
    }

    [Fact]
    public void A_udp_length_longer_than_the_datagram_is_invalid()
    {
        byte[] frame = Frame.Ip(H1, H2).Udp(1000, 2000).Payload(8).Checksum(0).Build();
        frame[38] = 0x01; // UDP length 256 > 16

        Assert.Equal(S("inv|trk"), _ct.State(frame));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.BadUdpLength]);
    }

    [Fact]
    public void Tcp_fields_and_the_window_scale_option_are_extracted()
    {
        var input = Parse(Frame.Ip(H1, H2).Tcp(1234, 80, Syn, 0xDEADBEEF, 0x01020304, 29200).TcpOptions(1, 3, 3, 9).Build());

        Assert.True(input.IsValid);
        Assert.Equal(0xDEADBEEFu, input.TcpSeq);
        Assert.Equal(0x01020304u, input.TcpAck);
        Assert.Equal(29200, input.TcpWindow);
        Assert.Equal(Syn, input.TcpFlags);
        Assert.Equal(0x80 | 9, input.TcpWindowScale);
        Assert.Equal(0u, input.PayloadLength);
    }

    [Fact]
    public void A_window_scale_above_14_is_clamped()
    {
        Assert.Equal(0x80 | 14, Parse(Frame.Ip(H1, H2).Tcp(1234, 80, Syn, 1, 0).TcpOptions(1, 3, 3, 20).Build()).TcpWindowScale);
    }

    [Fact]
    public void Both_directions_have_the_same_shard_hash()
    {
        uint there = Parse(Frame.Ip(H1, H2).Tcp(40000, 8080, Syn, 1, 0).Build()).ShardHash;
        uint back = Parse(Frame.Ip(H2, H1).Tcp(8080, 40000, Syn | Ack, 1, 2).Build()).ShardHash;
        uint other = Parse(Frame.Ip(H1, H2).Tcp(40001, 8080, Syn, 1, 0).Build()).ShardHash;

        Assert.Equal(there, back);
        Assert.NotEqual(there, other);
    }

    [Fact]
    public void Echo_request_and_reply_have_the_same_shard_hash()
    {
        Assert.Equal(Parse(Frame.Ip(H1v6, H2v6).IcmpEcho(128, 77).Build()).ShardHash, Parse(Frame.Ip(H2v6, H1v6).IcmpEcho(129, 77).Build()).ShardHash);
    }

    [Fact]
    public void An_icmp_error_hashes_like_the_connection_it_quotes()
    {
        byte[] probe = Frame.Ip(H1, H2).Udp(46026, 33434).Build();
        var error = Parse(Frame.Ip(H2, H1).IcmpError(3, 3, probe, quotedBytes: 28).Build());

        Assert.True(error.IcmpRelated);
        Assert.Equal(Parse(probe).ShardHash, error.ShardHash);
    }

    [Fact]
    public void The_zone_is_part_of_the_key_but_not_of_the_shard_hash()
    {
        // A frame's receive queue is chosen before any ct action names a zone: the shard (hosted by
        // that queue's PMD) must not depend on it. The table still keeps the zones apart.
        byte[] frame = Frame.Ip(H1, H2).Udp(1, 2).Build();

        Assert.Equal(Parse(frame, zone: 1).ShardHash, Parse(frame, zone: 2).ShardHash);
        Assert.NotEqual(Parse(frame, zone: 1).Key, Parse(frame, zone: 2).Key);
        Assert.Equal(7, Parse(frame, zone: 7).Key.Zone);
    }

    [Fact]
    public void The_packets_previous_ct_state_travels_in_the_input()
    {
        var metadata = new PacketMetadata { CtState = CtState.Tracked | CtState.New, CtZone = 3 };
        var input = Parse(Frame.Ip(H1, H2).Udp(1, 2).Build(), zone: 3, in metadata);

        Assert.Equal(CtState.Tracked | CtState.New, input.PreviousState);
        Assert.Equal(3, input.PreviousZone);
    }
}
