using Datapath.Conntrack;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// TCP through conntrack, written from RFC 9293 (the three-way handshake, FIN and RST rules) and
/// the pf window-tracking rules Open vSwitch uses; the expected states are those of the captures'
/// expected .ct files (SYN new, SYN|ACK est|rpl, every later in-window segment est).
/// </summary>
public class TcpTrackerTests
{
    private const ushort Client = 40000;
    private const ushort Server = 8080;
    private const uint ClientIsn = 1000;
    private const uint ServerIsn = 5000;

    private readonly CtHarness _ct = new();

    private static byte[] FromClient(uint seq, uint ack, ushort flags, int payload = 0, ushort window = 64240) =>
        Frame.Ip(H1, H2).Tcp(Client, Server, flags, seq, ack, window).Payload(payload).Build();

    private static byte[] FromServer(uint seq, uint ack, ushort flags, int payload = 0, ushort window = 65160) =>
        Frame.Ip(H2, H1).Tcp(Server, Client, flags, seq, ack, window).Payload(payload).Build();

    /// <summary>SYN, SYN|ACK, ACK; returns the next sequence numbers.</summary>
    private (uint Client, uint Server) Handshake()
    {
        Assert.Equal(S("new|trk"), _ct.State(FromClient(ClientIsn, 0, Syn)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(ServerIsn, ClientIsn + 1, Syn | Ack)));
        Assert.Equal(S("est|trk"), _ct.State(FromClient(ClientIsn + 1, ServerIsn + 1, Ack)));
        return (ClientIsn + 1, ServerIsn + 1);
    }

    private ConnectionSnapshot Only() => Assert.Single(_ct.Table.Snapshot());

    [Fact]
    public void Three_way_handshake_is_new_then_established_reply_then_established()
    {
        Handshake();

        var entry = Only();
        Assert.Equal(TcpState.Established, entry.TcpOrigState);
        Assert.Equal(TcpState.Established, entry.TcpReplyState);
        Assert.Equal(TimeoutClass.TcpEstablished, entry.Timeout);
    }

    [Fact]
    public void Data_both_ways_stays_established()
    {
        var (c, s) = Handshake();

        Assert.Equal(S("est|trk"), _ct.State(FromClient(c, s, Psh | Ack, payload: 100)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s, c + 100, Ack, payload: 1400)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s + 1400, c + 100, Psh | Ack, payload: 600)));
        Assert.Equal(S("est|trk"), _ct.State(FromClient(c + 100, s + 2000, Ack)));
    }

    [Fact]
    public void A_retransmitted_segment_is_still_established()
    {
        var (c, s) = Handshake();
        var segment = FromClient(c, s, Psh | Ack, payload: 500);

        Assert.Equal(S("est|trk"), _ct.State(segment));
        Assert.Equal(S("est|trk"), _ct.State(segment));
    }

    [Fact]
    public void A_retransmitted_syn_is_still_new()
    {
        Assert.Equal(S("new|trk"), _ct.State(FromClient(ClientIsn, 0, Syn)));
        Assert.Equal(S("new|trk"), _ct.State(FromClient(ClientIsn, 0, Syn)));
        Assert.Equal(1, _ct.Table.Count);
    }

    [Fact]
    public void Client_closes_first_and_the_connection_ends_closed()
    {
        var (c, s) = Handshake();

        Assert.Equal(S("est|trk"), _ct.State(FromClient(c, s, Fin | Ack)));
        Assert.Equal(TimeoutClass.TcpClosing, Only().Timeout);
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s, c + 1, Ack)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s, c + 1, Fin | Ack)));
        Assert.Equal(TimeoutClass.TcpFinWait, Only().Timeout);
        Assert.Equal(S("est|trk"), _ct.State(FromClient(c + 1, s + 1, Ack)));

        var entry = Only();
        Assert.Equal(TcpState.FinWait2, entry.TcpOrigState);
        Assert.Equal(TcpState.FinWait2, entry.TcpReplyState);
        Assert.Equal(TimeoutClass.TcpClosed, entry.Timeout);
    }

    [Fact]
    public void Server_closes_first_and_the_connection_ends_closed()
    {
        var (c, s) = Handshake();

        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s, c, Fin | Ack)));
        Assert.Equal(S("est|trk"), _ct.State(FromClient(c, s + 1, Fin | Ack)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s + 1, c + 1, Ack)));

        Assert.Equal(TimeoutClass.TcpClosed, Only().Timeout);
    }

    [Fact]
    public void A_new_syn_on_a_closed_tuple_starts_a_new_connection()
    {
        var (c, s) = Handshake();
        _ct.State(FromClient(c, s, Fin | Ack));
        _ct.State(FromServer(s, c + 1, Fin | Ack));
        _ct.State(FromClient(c + 1, s + 1, Ack));

        Assert.Equal(S("new|trk"), _ct.State(FromClient(90_000, 0, Syn)));

        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.Replaced]);
        var entry = Only();
        Assert.Equal(TcpState.SynSent, entry.TcpOrigState);
        Assert.Equal(TcpState.Closed, entry.TcpReplyState);
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(70_000, 90_001, Syn | Ack)));
    }

    [Fact]
    public void A_syn_on_an_open_connection_is_not_a_new_connection()
    {
        var (c, s) = Handshake();

        var state = _ct.State(FromClient(c + 5000, 0, Syn));

        Assert.False(state.HasFlag(Datapath.Packets.CtState.New));
        Assert.Equal(0, _ct.Table.Stats[ConntrackCounter.Replaced]);
        Assert.Equal(1, _ct.Table.Count);
        _ = s;
    }

    [Fact]
    public void An_in_window_rst_closes_the_connection()
    {
        var (c, s) = Handshake();

        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s, c, Rst | Ack)));

        var entry = Only();
        Assert.Equal(TcpState.TimeWait, entry.TcpOrigState);
        Assert.Equal(TcpState.TimeWait, entry.TcpReplyState);
        Assert.Equal(TimeoutClass.TcpClosed, entry.Timeout);
    }

    [Fact]
    public void A_rst_answering_a_syn_to_a_closed_port_is_established_reply()
    {
        // tcp-rst.pcap (a): connects to closed ports are answered by RST|ACK, ack = ISN + 1.
        Assert.Equal(S("new|trk"), _ct.State(FromClient(ClientIsn, 0, Syn)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(0, ClientIsn + 1, Rst | Ack, window: 0)));
        Assert.Equal(TimeoutClass.TcpClosed, Only().Timeout);
    }

    [Fact]
    public void A_rst_with_a_sequence_number_not_exactly_at_the_window_edge_is_invalid()
    {
        var (c, s) = Handshake();

        // RFC 5961 3.2 spirit, pf rule: a RST must carry exactly the next expected sequence (or one off).
        Assert.Equal(S("inv|trk"), _ct.State(FromServer(s + 3000, c, Rst | Ack)));

        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.TcpOutOfWindow]);
        Assert.Equal(TcpState.Established, Only().TcpReplyState);
    }

    [Fact]
    public void Data_beyond_the_receivers_window_is_invalid()
    {
        var (c, s) = Handshake();

        // The server advertised 65160 bytes; this segment ends 200000 bytes ahead.
        Assert.Equal(S("inv|trk"), _ct.State(FromClient(c + 200_000, s, Ack, payload: 100)));
        Assert.Equal(S("est|trk"), _ct.State(FromClient(c, s, Ack, payload: 100)));
    }

    [Fact]
    public void Data_more_than_a_window_behind_is_invalid()
    {
        var (c, s) = Handshake();
        uint sent = 0;
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(S("est|trk"), _ct.State(FromClient(c + sent, s, Ack, payload: 1400)));
            Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(s, c + sent + 1400, Ack)));
            sent += 1400;
        }

        Assert.Equal(S("inv|trk"), _ct.State(FromClient(c - 70_000, s, Ack, payload: 100)));
    }

    [Fact]
    public void An_ack_for_data_never_sent_is_invalid()
    {
        var (c, s) = Handshake();

        Assert.Equal(S("inv|trk"), _ct.State(FromClient(c, s + 500_000, Ack)));
    }

    [Theory]
    [InlineData(Syn | Fin)]
    [InlineData(Syn | Rst)]
    [InlineData(0)]
    [InlineData(Fin)]
    [InlineData(Psh)]
    [InlineData(Urg)]
    public void Impossible_flag_combinations_are_invalid_on_a_known_connection(ushort flags)
    {
        var (c, s) = Handshake();

        Assert.Equal(S("inv|trk"), _ct.State(FromClient(c, s, flags)));
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.TcpInvalidFlags]);
    }

    [Theory]
    [InlineData(Syn | Fin)]
    [InlineData(0)]
    [InlineData(Fin)]
    [InlineData(Syn | Ack)]
    public void Packets_that_cannot_open_a_connection_are_invalid_and_not_remembered(ushort flags)
    {
        Assert.Equal(S("inv|trk"), _ct.State(FromClient(ClientIsn, 0, flags)));

        Assert.Equal(0, _ct.Table.Count);
        Assert.Equal(1, _ct.Table.Stats[ConntrackCounter.InvalidNew]);
    }

    [Fact]
    public void A_connection_picked_up_mid_stream_is_new_then_established()
    {
        // An ACK-bearing segment may open a connection (the state table was lost), as in pf.
        Assert.Equal(S("new|trk"), _ct.State(FromClient(123_456, 654_321, Ack, payload: 10)));
        Assert.Equal(S("est|rpl|trk"), _ct.State(FromServer(654_321, 123_466, Ack, payload: 10)));
        Assert.Equal(S("est|trk"), _ct.State(FromClient(123_466, 654_331, Ack)));
    }

    [Fact]
    public void A_syn_ack_without_a_connection_is_invalid_and_its_handshake_is_not_tracked()
    {
        // tcp-reverse from the other side: a SYN|ACK that never had a SYN.
        Assert.Equal(S("inv|trk"), _ct.State(FromServer(ServerIsn, ClientIsn + 1, Syn | Ack)));
        Assert.Equal(0, _ct.Table.Count);
    }

    [Fact]
    public void Window_scaling_lets_a_scaled_window_through()
    {
        // Both SYNs carry scale 7: windows are then multiplied by 128 (RFC 7323 2.3).
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1, H2).Tcp(Client, Server, Syn, ClientIsn, 0, 64240).TcpOptions(1, 3, 3, 7).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2, H1).Tcp(Server, Client, Syn | Ack, ServerIsn, ClientIsn + 1, 65160).TcpOptions(1, 3, 3, 7).Build()));
        Assert.Equal(S("est|trk"), _ct.State(Frame.Ip(H1, H2).Tcp(Client, Server, Ack, ClientIsn + 1, ServerIsn + 1, 2000).Build()));

        // The server sends 300 KB ahead: beyond 64 KB unscaled, inside 2000 * 128 = 256 KB + slack.
        uint s = ServerIsn + 1;
        for (uint sent = 0; sent < 240_000; sent += 60_000)
        {
            Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2, H1).Tcp(Server, Client, Ack, s + sent, ClientIsn + 1, 500).Payload(60_000 % 1460).Build()));
        }

        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2, H1).Tcp(Server, Client, Ack, s + 200_000, ClientIsn + 1, 500).Payload(1000).Build()));
        Assert.Equal(S("inv|trk"), _ct.State(Frame.Ip(H2, H1).Tcp(Server, Client, Ack, s + 900_000, ClientIsn + 1, 500).Payload(1000).Build()));
    }

    [Fact]
    public void Ipv6_handshake_and_teardown_track_like_ipv4()
    {
        Assert.Equal(S("new|trk"), _ct.State(Frame.Ip(H1v6, H2v6).Tcp(Client, Server, Syn, 1, 0).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2v6, H1v6).Tcp(Server, Client, Syn | Ack, 100, 2).Build()));
        Assert.Equal(S("est|trk"), _ct.State(Frame.Ip(H1v6, H2v6).Tcp(Client, Server, Ack, 2, 101).Payload(50).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2v6, H1v6).Tcp(Server, Client, Fin | Ack, 101, 52).Build()));
        Assert.Equal(S("est|trk"), _ct.State(Frame.Ip(H1v6, H2v6).Tcp(Client, Server, Fin | Ack, 52, 102).Build()));
        Assert.Equal(S("est|rpl|trk"), _ct.State(Frame.Ip(H2v6, H1v6).Tcp(Server, Client, Ack, 102, 53).Build()));

        Assert.Equal(TimeoutClass.TcpClosed, Only().Timeout);
    }
}
