using System.Buffers.Binary;
using Datapath.Actions;
using PacketDotNet;

namespace Datapath.Tests.Actions;

public class VlanActionTests
{
    [Fact]
    public void Push_inserts_the_tag_after_the_MACs_and_moves_the_offsets()
    {
        byte[] original = TestFrames.Ipv4Tcp().Build();
        var packet = TestFrames.Load(original);

        Assert.True(VlanAction.Push(packet, 0x8100, 0x6123));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(original.Length + 4, frame.Length);
        Assert.Equal(original.AsSpan(0, 12).ToArray(), frame.AsSpan(0, 12).ToArray());
        Assert.Equal(new byte[] { 0x81, 0x00, 0x61, 0x23 }, frame.AsSpan(12, 4).ToArray());
        Assert.Equal(original.AsSpan(12).ToArray(), frame.AsSpan(16).ToArray());
        Assert.Equal(TestFrames.Offsets(frame), (packet.L3Offset, packet.L4Offset));
        Assert.Equal(18, packet.L3Offset);

        var vlan = TestFrames.Parse(frame).Extract<Ieee8021QPacket>();
        Assert.Equal(0x123, vlan.VlanIdentifier);
        Assert.Equal(EthernetType.IPv4, vlan.Type);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Push_then_pop_restores_the_original_bytes_and_offsets()
    {
        byte[] original = TestFrames.Ipv6Udp().Build();
        var packet = TestFrames.Load(original);
        (int l3, int l4) = (packet.L3Offset, packet.L4Offset);

        Assert.True(VlanAction.Push(packet, 0x8100, 10));
        Assert.True(VlanAction.Pop(packet));

        Assert.Equal(original, TestFrames.Bytes(packet));
        Assert.Equal((l3, l4), (packet.L3Offset, packet.L4Offset));
    }

    [Fact]
    public void A_second_push_becomes_the_outer_tag_and_pop_removes_it_first()
    {
        byte[] original = TestFrames.Ipv4Udp().Build();
        var packet = TestFrames.Load(original);

        Assert.True(VlanAction.Push(packet, 0x8100, 100));
        Assert.True(VlanAction.Push(packet, 0x88a8, 200));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(0x88a8, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        Assert.Equal(200, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)));
        Assert.Equal(0x8100, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16)));
        Assert.Equal(100, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18)));
        Assert.Equal(22, packet.L3Offset);

        Assert.True(VlanAction.Pop(packet));
        Assert.Equal(TestFrames.Ipv4Udp().Vlan(100).Build(), TestFrames.Bytes(packet));
        Assert.Equal(18, packet.L3Offset);
    }

    [Fact]
    public void Pop_on_an_untagged_frame_does_nothing()
    {
        byte[] original = TestFrames.Ipv4Tcp().Build();
        var packet = TestFrames.Load(original);

        Assert.False(VlanAction.Pop(packet));

        Assert.Equal(original, TestFrames.Bytes(packet));
        Assert.Equal(14, packet.L3Offset);
    }

    [Fact]
    public void Push_fails_without_change_once_the_headroom_is_used_up()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp().Build());
        int pushes = 0;
        while (VlanAction.Push(packet, 0x8100, 1))
        {
            pushes++;
        }

        byte[] before = TestFrames.Bytes(packet);
        int l3 = packet.L3Offset;

        Assert.Equal(Datapath.Packets.Packet.DefaultHeadroom / VlanAction.TagLength, pushes);
        Assert.False(VlanAction.Push(packet, 0x8100, 2));
        Assert.Equal(before, TestFrames.Bytes(packet));
        Assert.Equal(l3, packet.L3Offset);
    }
}
