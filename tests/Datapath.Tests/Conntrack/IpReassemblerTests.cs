using System.Buffers.Binary;
using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;
using static Datapath.Tests.Conntrack.CtFrames;
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
        byte[] original = Udp(H1, H2, 4000, 5001, payload: 4000);
        var fragments = SplitIpv4(original, Bytes);
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
        byte[] original = Udp(H1, H2, 4000, 5001, payload: 4000);
        var fragments = SplitIpv4(original, Bytes);
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
        CtState Track(byte[] frame)
        {
            CtState state = CtState.None;
            foreach (byte[] fragment in SplitIpv4(frame, Bytes))
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

        Assert.Equal(S("new|trk"), Track(Udp(H1, H2, 4000, 5001, payload: 4000)));
        Assert.Equal(S("est|rpl|trk"), Track(Udp(H2, H1, 5001, 4000, payload: 4000)));
    }

    [Fact]
    public void Ipv6_fragments_reassemble_into_a_datagram_conntrack_accepts()
    {
        byte[] original = Udp(H1v6, H2v6, 4000, 5001, payload: 3000);
        var fragments = SplitIpv6(original, 1232, id: 0xCAFE);
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
        var a = SplitIpv4(Udp(H1, H2, 1, 2, payload: 3000), Bytes, id: 1);
        var b = SplitIpv4(Udp(H1, H2, 1, 2, payload: 3000), Bytes, id: 2);
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
        var fragments = SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes);
        var reassembler = new IpReassembler();
        Offer(reassembler, fragments[0], out _);
        byte[] overlapping = (byte[])fragments[1].Clone();
        BinaryPrimitives.WriteUInt16BigEndian(overlapping.AsSpan(20), (ushort)(0x2000 | ((Bytes - 8) / 8)));
        FixIpv4HeaderChecksum(overlapping);

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, overlapping, out _));

        Assert.Single(reassembler.DroppedWithDatagram);
        Assert.Equal(2, reassembler.Stats[ReassemblyCounter.Overlap]);
        Assert.Equal(0, reassembler.HeldFragments);
        Assert.Equal(0, reassembler.PendingDatagrams);
    }

    [Fact]
    public void A_duplicate_fragment_drops_its_whole_datagram()
    {
        var fragments = SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes);
        var reassembler = new IpReassembler();
        Offer(reassembler, fragments[1], out _);

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, fragments[1], out _));
        Assert.Equal(0, reassembler.HeldFragments);
    }

    [Fact]
    public void An_incomplete_datagram_expires_after_the_timeout_and_its_fragments_are_handed_back()
    {
        var fragments = SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes);
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
            var verdict = Offer(reassembler, SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes, id)[0], out _);
            Assert.Equal(id <= 2 ? FragmentVerdict.Held : FragmentVerdict.Dropped, verdict);
        }

        Assert.Equal(1, reassembler.Stats[ReassemblyCounter.HeldFragmentsLimit]);
    }

    [Fact]
    public void The_held_bytes_limit_refuses_more_with_a_counted_drop()
    {
        var reassembler = new IpReassembler(new ReassemblyOptions { MaxHeldBytes = 3000 });
        Offer(reassembler, SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes, 1)[0], out _);

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes, 2)[0], out _));
        Assert.Equal(1, reassembler.Stats[ReassemblyCounter.HeldBytesLimit]);
    }

    [Fact]
    public void A_small_fragment_that_is_not_the_last_is_refused()
    {
        var reassembler = new IpReassembler();

        Assert.Equal(FragmentVerdict.Dropped, Offer(reassembler, SplitIpv4(Udp(H1, H2, 1, 2, payload: 1000), 200)[0], out _));
        Assert.Equal(1, reassembler.Stats[ReassemblyCounter.TooSmall]);
    }

    [Fact]
    public void A_datagram_larger_than_65535_bytes_is_refused()
    {
        byte[] last = SplitIpv4(Udp(H1, H2, 1, 2, payload: 4000), Bytes)[2];
        BinaryPrimitives.WriteUInt16BigEndian(last.AsSpan(20), 8180); // offset 65440, + 1048 bytes
        FixIpv4HeaderChecksum(last);

        Assert.Equal(FragmentVerdict.Dropped, Offer(new IpReassembler(), last, out _));
    }

    [Fact]
    public void Unfragmented_packets_pass_through_untouched()
    {
        Assert.Equal(FragmentVerdict.NotFragment, Offer(new IpReassembler(), Udp(H1, H2, 1, 2), out _));
        Assert.Equal(FragmentVerdict.NotFragment, Offer(new IpReassembler(), Arp(), out _));
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

    /// <summary>Cuts an unfragmented IPv4 frame (20-byte header) into fragments of <paramref name="size"/> payload bytes.</summary>
    internal static List<byte[]> SplitIpv4(byte[] frame, int size, ushort id = 0x1234)
    {
        var payload = frame.AsSpan(34);
        var list = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += size)
        {
            int length = Math.Min(size, payload.Length - offset);
            var fragment = new byte[34 + length];
            frame.AsSpan(0, 34).CopyTo(fragment);
            payload.Slice(offset, length).CopyTo(fragment.AsSpan(34));
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(16), (ushort)(20 + length));
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(18), id);
            bool more = offset + length < payload.Length;
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(20), (ushort)((more ? 0x2000 : 0) | (offset / 8)));
            FixIpv4HeaderChecksum(fragment);
            list.Add(fragment);
        }

        // The original carried id 0x1234 and no flags: reassembly must give it back, so keep the id.
        return list;
    }

    /// <summary>Cuts an IPv6 frame (no extension headers) into fragments with a fragment header.</summary>
    private static List<byte[]> SplitIpv6(byte[] frame, int size, uint id)
    {
        var payload = frame.AsSpan(54);
        byte next = frame[20];
        var list = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += size)
        {
            int length = Math.Min(size, payload.Length - offset);
            var fragment = new byte[54 + 8 + length];
            frame.AsSpan(0, 54).CopyTo(fragment);
            fragment[20] = 44;
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(18), (ushort)(8 + length));
            fragment[54] = next;
            bool more = offset + length < payload.Length;
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(56), (ushort)(offset | (more ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(fragment.AsSpan(58), id);
            payload.Slice(offset, length).CopyTo(fragment.AsSpan(62));
            list.Add(fragment);
        }

        return list;
    }
}
