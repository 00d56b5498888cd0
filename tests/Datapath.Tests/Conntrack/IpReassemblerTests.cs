using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// IP reassembly in front of conntrack (RFC 791, RFC 8200 4.5, RFC 5722), and the replay of the
/// real fragmented capture against the product's expected file (see Expected/ip-frag.md for why it
/// differs from Open vSwitch's own answers).
/// </summary>
public class IpReassemblerTests
{
    private const int Bytes = 1480;

    [Fact]
    public void The_fragment_capture_replays_to_the_product_expected_states()
    {
        string expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Conntrack", "Expected", "ip-frag.ct"));

        Assert.Equal(expected, Replay(TestData.Capture(Path.Combine("fragments", "ip-frag.pcap")), 1));
        Assert.Equal(expected, Replay(TestData.Capture(Path.Combine("fragments", "ip-frag.pcap")), 32));
    }

    [Fact]
    public void The_fragment_capture_agrees_with_Open_vSwitch_on_every_unfragmented_frame()
    {
        string[] ours = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Conntrack", "Expected", "ip-frag.ct"));
        string[] ovs = File.ReadAllLines(TestData.Capture(Path.Combine("fragments", "ovs-expected", "ip-frag.ct")));

        Assert.Equal(ovs.Length, ours.Length);
        foreach (int line in new[] { 1, 2, 39, 40 })
        {
            Assert.Equal(ovs[line - 1], ours[line - 1]);
        }

        // Every fragment line differs: OVS says 0 (held) or inv|trk (completed datagram).
        Assert.All(Enumerable.Range(3, 36).Concat(Enumerable.Range(41, 18)), line => Assert.NotEqual(ovs[line - 1], ours[line - 1]));
    }

    [Fact]
    public void In_order_ipv4_fragments_rebuild_the_original_datagram_exactly()
    {
        var udp = Frame.Ip(H1, H2).Udp(4000, 5001).Payload(4000);
        byte[] original = udp.Build();
        var fragments = udp.BuildFragments(Bytes);
        var reassembler = new IpReassembler();

        Assert.Equal(FragmentVerdict.Held, Offer(reassembler, fragments[0], out _));
        Assert.Equal(FragmentVerdict.Held, Offer(reassembler, fragments[1], out _));
        Assert.Equal(2, reassembler.HeldFragments);
        Assert.Equal(FragmentVerdict.Completed, Offer(reassembler, fragments[2], out var datagram));

        Assert.Equal(original, datagram!.Datagram.Data.ToArray());
        Assert.Equal(fragments, datagram.Fragments.Select(p => p.Data.ToArray()));
        reassembler.Release(datagram);
        Assert.Equal(0, reassembler.HeldFragments);
        Assert.Equal(0, reassembler.HeldBytes);
        Assert.Equal(3, reassembler.Stats[ReassemblyCounter.Released]);
    }

    [Fact]
    public void Out_of_order_fragments_complete_and_are_released_in_arrival_order()
    {
        var udp = Frame.Ip(H1, H2).Udp(4000, 5001).Payload(4000);
        byte[] original = udp.Build();
        var fragments = udp.BuildFragments(Bytes);
        var reassembler = new IpReassembler();

        Offer(reassembler, fragments[2], out _);
        Offer(reassembler, fragments[0], out _);
        Assert.Equal(FragmentVerdict.Completed, Offer(reassembler, fragments[1], out var datagram));

        Assert.Equal(original, datagram!.Datagram.Data.ToArray());
        Assert.Equal(new[] { fragments[2], fragments[0], fragments[1] }, datagram.Fragments.Select(p => p.Data.ToArray()));
    }

    [Fact]
    public void Conntrack_tracks_the_reassembled_datagram()
    {
        var reassembler = new IpReassembler();
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        CtState Track(FrameBuilder udp)
        {
            CtState state = CtState.None;
            foreach (byte[] fragment in udp.BuildFragments(Bytes))
            {
                if (Offer(reassembler, fragment, out var datagram) == FragmentVerdict.Completed)
                {
                    var key = default(FlowKey);
                    FlowExtractor.Extract(datagram!.Datagram, ref key, new ExtractionStats());
                    ConntrackInput.TryParse(datagram.Datagram, in key, 0, out var input);
                    state = table.Execute(in input, new Datapath.Actions.ConntrackArgs { Commit = true }, 0).State;
                    reassembler.Release(datagram);
                }
            }

            return state;
        }

        Assert.Equal(S("new|trk"), Track(Frame.Ip(H1, H2).Udp(4000, 5001).Payload(4000)));
        Assert.Equal(S("est|rpl|trk"), Track(Frame.Ip(H2, H1).Udp(5001, 4000).Payload(4000)));
    }

    [Fact]
    public void Ipv6_fragments_reassemble_into_a_datagram_conntrack_accepts()
    {
        var udp = Frame.Ip(H1v6, H2v6).Id(0xCAFE).Udp(4000, 5001).Payload(3000);
        byte[] original = udp.Build();
        var fragments = udp.BuildFragments(1232);
        var reassembler = new IpReassembler();

        Assert.Equal(FragmentVerdict.Held, Offer(reassembler, fragments[1], out _));
        Assert.Equal(FragmentVerdict.Held, Offer(reassembler, fragments[0], out _));
        Assert.Equal(FragmentVerdict.Completed, Offer(reassembler, fragments[2], out var datagram));

        var input = ParseDatagram(datagram!.Datagram);
        Assert.True(input.IsValid, input.InvalidReason.ToString());
        Assert.Equal(Parse(original).Key, input.Key);
    }

    [Fact]
    public void Fragments_of_different_datagrams_do_not_mix()
    {
        var a = Frame.Ip(H1, H2).Id(1).Udp(1, 2).Payload(3000).BuildFragments(Bytes);
        var b = Frame.Ip(H1, H2).Id(2).Udp(1, 2).Payload(3000).BuildFragments(Bytes);
        var reassembler = new IpReassembler();

        Offer(reassembler, a[0], out _);
        Offer(reassembler, b[1], out _);
        Offer(reassembler, b[0], out _);
        Offer(reassembler, a[1], out _);
        Assert.Equal(2, reassembler.PendingDatagrams);
        Assert.Equal(FragmentVerdict.Completed, Offer(reassembler, a[2], out var done));
        Assert.Equal(a.Count, done!.Fragments.Count);
    }

    [Fact]
    public void An_overlapping_fragment_drops_its_whole_datagram()
    {
        var fragments = Frame.Ip(H1, H2).Udp(1, 2).Payload(4000).BuildFragments(Bytes);
        var reassembler = new IpReassembler();
        Offer(reassembler, fragments[0], out _);
        byte[] overlapping = Frame.Ip(H1, H2).Fragment(Bytes - 8, more: true).Transport(IpProtocols.Udp, fragments[1][34..]).Build();

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, overlapping, out _));

        Assert.Single(reassembler.DroppedWithDatagram);
        Assert.Equal(2, reassembler.Stats[ReassemblyCounter.Overlap]);
        Assert.Equal(0, reassembler.HeldFragments);
        Assert.Equal(0, reassembler.PendingDatagrams);
    }

    [Fact]
    public void A_duplicate_fragment_drops_its_whole_datagram()
    {
        var fragments = Frame.Ip(H1, H2).Udp(1, 2).Payload(4000).BuildFragments(Bytes);
        var reassembler = new IpReassembler();
        Offer(reassembler, fragments[1], out _);

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, fragments[1], out _));
        Assert.Equal(0, reassembler.HeldFragments);
    }

    [Fact]
    public void An_incomplete_datagram_expires_after_the_timeout_and_its_fragments_are_handed_back()
    {
        var fragments = Frame.Ip(H1, H2).Udp(1, 2).Payload(4000).BuildFragments(Bytes);
        var reassembler = new IpReassembler(new ReassemblyOptions { TimeoutMs = 15_000 });
        Offer(reassembler, fragments[0], out _, now: 1000);
        Offer(reassembler, fragments[2], out _, now: 2000);
        var dropped = new List<Packet>();

        Assert.Equal(0, reassembler.Expire(15_999, dropped));
        Assert.Equal(2, reassembler.Expire(16_000, dropped));

        Assert.Equal(2, dropped.Count);
        Assert.Equal(2, reassembler.Stats[ReassemblyCounter.Expired]);
        Assert.Equal(0, reassembler.HeldFragments);
        Assert.Equal(FragmentVerdict.Held, Offer(reassembler, fragments[1], out _, now: 16_001));
    }

    [Fact]
    public void The_held_fragment_limit_refuses_more_with_a_counted_drop()
    {
        var reassembler = new IpReassembler(new ReassemblyOptions { MaxHeldFragments = 2 });
        for (ushort id = 1; id <= 3; id++)
        {
            var verdict = Offer(reassembler, Frame.Ip(H1, H2).Id(id).Udp(1, 2).Payload(4000).BuildFragments(Bytes)[0], out _);
            Assert.Equal(id <= 2 ? FragmentVerdict.Held : FragmentVerdict.Dropped, verdict);
        }

        Assert.Equal(1, reassembler.Stats[ReassemblyCounter.HeldFragmentsLimit]);
    }

    [Fact]
    public void The_held_bytes_limit_refuses_more_with_a_counted_drop()
    {
        var reassembler = new IpReassembler(new ReassemblyOptions { MaxHeldBytes = 3000 });
        Offer(reassembler, Frame.Ip(H1, H2).Id(1).Udp(1, 2).Payload(4000).BuildFragments(Bytes)[0], out _);

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, Frame.Ip(H1, H2).Id(2).Udp(1, 2).Payload(4000).BuildFragments(Bytes)[0], out _));
        Assert.Equal(1, reassembler.Stats[ReassemblyCounter.HeldBytesLimit]);
    }

    [Fact]
    public void A_small_fragment_that_is_not_the_last_is_refused()
    {
        var reassembler = new IpReassembler();

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, Frame.Ip(H1, H2).Udp(1, 2).Payload(1000).BuildFragments(200)[0], out _));
        Assert.Equal(1, reassembler.Stats[ReassemblyCounter.TooSmall]);
    }

    [Fact]
    public void A_datagram_larger_than_65535_bytes_is_refused()
    {
        byte[] data = Frame.Ip(H1, H2).Udp(1, 2).Payload(4000).BuildFragments(Bytes)[2][34..];
        byte[] last = Frame.Ip(H1, H2).Fragment(65440, more: false).Transport(IpProtocols.Udp, data).Build(); // + 1048 bytes

        Assert.Equal(FragmentVerdict.Dropped, Offer(new IpReassembler(), last, out _));
    }

    [Fact]
    public void Unfragmented_packets_pass_through_untouched()
    {
        Assert.Equal(FragmentVerdict.NotFragment, Offer(new IpReassembler(), Frame.Ip(H1, H2).Udp(1, 2).Build(), out _));
        Assert.Equal(FragmentVerdict.NotFragment, Offer(new IpReassembler(), Frame.Ethernet(Frame.Mac1, "ff:ff:ff:ff:ff:ff").Arp(1, Frame.Mac1, H1, "00:00:00:00:00:00", H2).Build(), out _));
    }

    private static string Replay(string path, int batch)
    {
        using var reader = PcapReader.Open(path);
        var text = new System.Text.StringBuilder();
        new ConntrackReplay(() => 0, new ConnectionTable(Defaults.ConntrackOptions)).Run(reader, batch, (n, state) => text.Append(n).Append(": ").Append(ConntrackFormatter.FormatState(state)).Append('\n'));
        return text.ToString();
    }

    private static FragmentVerdict Offer(IpReassembler reassembler, byte[] frame, out ReassembledDatagram? datagram, long now = 0)
    {
        var packet = new Packet();
        packet.SetFrame(frame, 1);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        return reassembler.Offer(packet, in key, 0, now, out datagram);
    }

    private static ConntrackInput ParseDatagram(Packet packet)
    {
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        ConntrackInput.TryParse(packet, in key, 0, out var input);
        return input;
    }
}
