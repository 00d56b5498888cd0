using TestSupport.Frames;
using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Tests.Conntrack;

namespace Datapath.Tests.Pipeline.Core;

/// <summary>Fragments wait for their datagram before conntrack; what the stage holds or drops is counted and given back.</summary>
public sealed class ReassemblyStageTests
{
    private readonly PmdCoreStats _stats = new();
    private readonly PacketPool _pool = new(8);
    private readonly ReassemblyStage _stage;

    public ReassemblyStageTests() => _stage = new ReassemblyStage(new IpReassembler(), new PmdPackets(1, new PacketBatchPool(), _stats), _stats);

    [Fact]
    public void A_whole_packet_goes_to_conntrack_alone()
    {
        var packet = Extracted(Frame.Ip(CtHarness.H1, CtHarness.H2).Udp(4000, 53).Payload(12).Build());

        Assert.True(_stage.TryInput(packet, 3, 0, out var input, out var datagram));

        Assert.Null(datagram);
        Assert.True(input.IsValid);
        Assert.Equal(3, input.Key.Zone);
    }

    [Fact]
    public void Fragments_wait_and_the_last_one_brings_the_whole_datagram_with_all_its_fragments()
    {
        var fragments = Frame.Ip(CtHarness.H1, CtHarness.H2).Udp(4000, 5001).Payload(3000).Id(0x1234).BuildFragments(1480).Select(Extracted).ToList();

        Assert.False(_stage.TryInput(fragments[0], 0, 0, out _, out _));
        Assert.False(_stage.TryInput(fragments[1], 0, 0, out _, out _));
        Assert.True(_stage.TryInput(fragments[2], 0, 0, out var input, out var datagram));

        Assert.True(input.IsValid);
        Assert.Equal(5001, input.Key.DstPort);
        Assert.Equal(fragments, datagram!.Fragments);
        Assert.Equal((2, 1), (_stats.FragmentsHeld, _stats.DatagramsReassembled));
        _stage.Release(datagram);
    }

    [Fact]
    public void Held_fragments_expire_counted_and_go_back_to_their_pool()
    {
        var fragments = Frame.Ip(CtHarness.H1, CtHarness.H2).Udp(4000, 5001).Payload(3000).Id(0x1234).BuildFragments(1480).Select(Extracted).ToList();
        _stage.TryInput(fragments[0], 0, 0, out _, out _);
        _stage.TryInput(fragments[1], 0, 0, out _, out _);

        _stage.Expire(60_000);

        Assert.Equal(2, _stats.FragmentsDropped);
        Assert.Equal(8 - 1, _pool.Available);
    }

    [Fact]
    public void Releasing_gives_back_every_held_fragment()
    {
        var fragments = Frame.Ip(CtHarness.H1, CtHarness.H2).Udp(4000, 5001).Payload(3000).Id(0x1234).BuildFragments(1480).Select(Extracted).ToList();
        _stage.TryInput(fragments[0], 0, 0, out _, out _);

        Assert.Equal(1, _stage.ReleaseHeld());
        Assert.Equal(8 - 2, _pool.Available);
    }

    /// <summary>A packet of the test pool, extracted as a pipeline pass leaves it for conntrack.</summary>
    private Packet Extracted(byte[] frame)
    {
        Assert.True(_pool.TryRent(out var packet));
        packet.SetFrame(frame, 1);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        return packet;
    }
}
