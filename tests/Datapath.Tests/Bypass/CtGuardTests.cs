using Datapath.Actions;
using Datapath.Bypass;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Tests.Bypass;

/// <summary>
/// A bypass flow's guard passes exactly the packets whose conntrack fields the recirculated
/// megaflow matches: ct_state, ct_zone, ct_mark and ct_label under its mask, nothing else.
/// </summary>
public sealed class CtGuardTests
{
    [Fact]
    public void The_guard_passes_the_conntrack_fields_the_recirculated_megaflow_matches()
    {
        var guard = Guard();

        Assert.True(guard.Passes(Metadata()));
        Assert.Equal(3u, guard.FallbackRecircId);
    }

    [Theory]
    [InlineData("ct_state")]
    [InlineData("ct_zone")]
    [InlineData("ct_mark")]
    [InlineData("ct_label_high")]
    [InlineData("ct_label_low")]
    public void A_change_of_a_matched_conntrack_field_fails_the_guard(string field)
    {
        var guard = Guard();
        var metadata = Metadata();
        switch (field)
        {
            case "ct_state":
                metadata.CtState = CtState.New | CtState.Tracked;
                break;
            case "ct_zone":
                metadata.CtZone = 6;
                break;
            case "ct_mark":
                metadata.CtMark = 0x2;
                break;
            case "ct_label_high":
                metadata.CtLabel ^= new UInt128(0x01, 0);
                break;
            default:
                metadata.CtLabel ^= 0x01;
                break;
        }

        Assert.False(guard.Passes(metadata));
        Assert.False(guard.Passes(ToKey(metadata)));
        Assert.False(guard.Recirculated.Matches(ToKey(metadata)));
    }

    [Fact]
    public void Bits_outside_the_megaflow_mask_do_not_matter()
    {
        var guard = Guard();
        var metadata = Metadata();
        metadata.CtState |= CtState.Reply;
        metadata.CtMark |= 0xFF00;
        metadata.CtLabel |= new UInt128(0xFF00, 0xFF00);

        Assert.True(guard.Passes(metadata));
        Assert.True(guard.Passes(ToKey(metadata)));
        Assert.True(guard.Recirculated.Matches(ToKey(metadata)));
    }

    /// <summary>Matches +est+trk-new-inv (rpl not looked at), zone 5, the low byte of the mark = 1, the low bytes of both label halves.</summary>
    private static CtGuard Guard()
    {
        var key = ToKey(Metadata());
        var mask = default(FlowKey);
        mask.CtState = CtState.Established | CtState.Tracked | CtState.New | CtState.Invalid;
        mask.CtZone = 0xFFFF;
        mask.CtMark = 0xFF;
        mask.CtLabel = new UInt128(0xFF, 0xFF);
        return new CtGuard(new Megaflow(in key, in mask, new ActionList([DatapathAction.Output(1)])), 3);
    }

    private static PacketMetadata Metadata()
    {
        var metadata = default(PacketMetadata);
        metadata.Reset(1);
        metadata.CtState = CtState.Established | CtState.Tracked;
        metadata.CtZone = 5;
        metadata.CtMark = 0x1;
        metadata.CtLabel = new UInt128(0xAB, 0xCD);
        return metadata;
    }

    private static FlowKey ToKey(in PacketMetadata metadata)
    {
        var key = default(FlowKey);
        key.CtState = metadata.CtState;
        key.CtZone = metadata.CtZone;
        key.CtMark = metadata.CtMark;
        key.CtLabel = metadata.CtLabel;
        return key;
    }
}
