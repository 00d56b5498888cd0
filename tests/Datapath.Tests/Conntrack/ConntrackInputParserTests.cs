using Datapath.Conntrack;
using Datapath.Packets;
using static Datapath.Tests.Conntrack.CtFrames;
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
        var result = _ct.Send(Arp());

        Assert.Equal(S("inv|trk"), result.State);
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.NotIp]);
        Assert.Equal(default, result.OriginalTuple);
    }

    [Fact]
    public void A_bad_ipv4_header_checksum_is_invalid()
    {
        byte[] frame = Udp(H1, H2, 1, 2);
        frame[24] ^= 0x55;

        Assert.Equal(S("inv|trk"), _ct.State(frame));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.L3Checksum]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_bad_l4_checksum_is_invalid(bool ipv6)
    {
        byte[] tcp = ipv6 ? Tcp(H1v6, H2v6, 1000, 80, 1, 0, Syn) : Tcp(H1, H2, 1000, 80, 1, 0, Syn);
        tcp[^1] ^= 0xFF;
        tcp[^2] ^= 0x0F;

        Assert.Equal(S("inv|trk"), _ct.State(tcp));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.L4Checksum]);
    }

    [Fact]
    public void A_bad_icmp_checksum_is_invalid()
    {
        byte[] echo = IcmpEcho(H1, H2, 8, 1);
        echo[^1] ^= 1;

        Assert.Equal(S("inv|trk"), _ct.State(echo));
    }

    [Fact]
    public void A_zero_udp_checksum_means_none_over_ipv4_but_is_invalid_over_ipv6()
    {
        Assert.Equal(S("new|trk"), _ct.State(Udp(H1, H2, 7, 9, zeroChecksum: true)));
        Assert.Equal(S("inv|trk"), _ct.State(Udp(H1v6, H2v6, 7, 9, zeroChecksum: true)));
    }

    [Fact]
    public void Port_zero_is_invalid()
    {
        Assert.Equal(S("inv|trk"), _ct.State(Udp(H1, H2, 0, 53)));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.PortZero]);
    }

    [Fact]
    public void An_ipv4_fragment_is_invalid_until_reassembled()
    {
        byte[] frame = Udp(H1, H2, 1000, 2000, payload: 64);
        frame[20] = 0x20; // MF
        FixIpv4HeaderChecksum(frame);

        Assert.Equal(S("inv|trk"), _ct.State(frame));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.Fragment]);
    }

    [Fact]
    public void A_udp_length_longer_than_the_datagram_is_invalid()
    {
        byte[] frame = Udp(H1, H2, 1000, 2000, payload: 8, zeroChecksum: true);
        frame[38] = 0x01; // UDP length 256 > 16

        Assert.Equal(S("inv|trk"), _ct.State(frame));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.BadUdpLength]);
    }

    [Fact]
    public void Tcp_fields_and_the_window_scale_option_are_extracted()
    {
        var input = Parse(Tcp(H1, H2, 1234, 80, 0xDEADBEEF, 0x01020304, Syn, window: 29200, payload: 0, windowScale: 9));

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
        Assert.Equal(0x80 | 14, Parse(Tcp(H1, H2, 1234, 80, 1, 0, Syn, windowScale: 20)).TcpWindowScale);
    }

    [Fact]
    public void Both_directions_have_the_same_shard_hash()
    {
        uint there = Parse(Tcp(H1, H2, 40000, 8080, 1, 0, Syn)).ShardHash;
        uint back = Parse(Tcp(H2, H1, 8080, 40000, 1, 2, Syn | Ack)).ShardHash;
        uint other = Parse(Tcp(H1, H2, 40001, 8080, 1, 0, Syn)).ShardHash;

        Assert.Equal(there, back);
        Assert.NotEqual(there, other);
    }

    [Fact]
    public void Echo_request_and_reply_have_the_same_shard_hash()
    {
        Assert.Equal(Parse(IcmpEcho(H1v6, H2v6, 128, 77)).ShardHash, Parse(IcmpEcho(H2v6, H1v6, 129, 77)).ShardHash);
    }

    [Fact]
    public void An_icmp_error_hashes_like_the_connection_it_quotes()
    {
        byte[] probe = Udp(H1, H2, 46026, 33434);
        var error = Parse(IcmpError(H2, H1, 3, 3, probe));

        Assert.True(error.IcmpRelated);
        Assert.Equal(Parse(probe).ShardHash, error.ShardHash);
    }

    [Fact]
    public void The_zone_is_part_of_the_key_and_of_the_hash()
    {
        byte[] frame = Udp(H1, H2, 1, 2);

        Assert.NotEqual(Parse(frame, zone: 1).ShardHash, Parse(frame, zone: 2).ShardHash);
        Assert.Equal(7, Parse(frame, zone: 7).Key.Zone);
    }

    [Fact]
    public void The_packets_previous_ct_state_travels_in_the_input()
    {
        var metadata = new PacketMetadata { CtState = CtState.Tracked | CtState.New, CtZone = 3 };
        var input = Parse(Udp(H1, H2, 1, 2), zone: 3, in metadata);

        Assert.Equal(CtState.Tracked | CtState.New, input.PreviousState);
        Assert.Equal(3, input.PreviousZone);
    }
}
