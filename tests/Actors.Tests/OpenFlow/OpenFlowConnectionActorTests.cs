using Actors.Pmd;
using System.Buffers.Binary;
using Actors.Bridge;
using Actors.OpenFlow;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Wire;

namespace Actors.Tests.OpenFlow;

/// <summary>One OpenFlow connection against a probe bridge and a recording transport.</summary>
public sealed class OpenFlowConnectionActorTests : TestKit
{
    private readonly FakeTransport _transport = new();

    public OpenFlowConnectionActorTests()
        : base(TestConfigs.TestKitDefaults())
    {
    }

    [Fact]
    public void The_highest_common_version_is_negotiated_and_features_come_from_the_bridge_in_it()
    {
        var (connection, bridge) = Start();
        Assert.Equal(0, _transport.Next(0)[1]);
        connection.Tell(Received(Hello(OfpVersion.Of13, (1u << 1) | (1u << 4))));
        bridge.ExpectMsg<SubscribeOpenFlow>();

        connection.Tell(Received(Header(OfpVersion.Of13, 5, 77)));
        bridge.ExpectMsg<DescribePorts>();
        bridge.Reply(new PortsDescribed(0xabc, [new PortInfo(1, "p1", 0x0200_0000_0001)], []));

        var reply = _transport.Next(6);
        Assert.Equal(OfpVersion.Of13, reply[0]);
        Assert.Equal(77u, Xid(reply));
        Assert.Equal(0xabcUL, BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8)));
    }

    [Fact]
    public void A_hello_without_a_common_version_is_answered_with_hello_failed_and_the_connection_closes()
    {
        var (connection, _) = Start();
        _transport.Next(0);
        Watch(connection);
        connection.Tell(Received(Hello(7, 1u << 7)));

        var error = _transport.Next(1);
        Assert.Equal((0, 0), (BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(8)), BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(10))));
        ExpectTerminated(connection);
        Assert.True(_transport.Closed);
    }

    [Fact]
    public void A_barrier_is_answered_after_the_statistics_requested_before_it()
    {
        var (connection, bridge) = Negotiated(OfpVersion.Of13);
        connection.Tell(Received(AggregateRequest13(5)));
        connection.Tell(Received(Header(OfpVersion.Of13, 20, 6)));
        bridge.ExpectMsg<GetFlowStatistics>();
        Assert.True(_transport.Quiet(TimeSpan.FromMilliseconds(200)), "the barrier reply overtook the statistics");

        var flow = new FlowStatsEntry(FlowParser.ParseLine("priority=1 actions=drop"), 3, 180, TimeSpan.FromSeconds(1), TimeSpan.Zero, TimeSpan.FromSeconds(1));
        bridge.Reply(new FlowStatisticsGathered([flow], []));

        var aggregate = _transport.Next();
        Assert.Equal((19, 5u), (aggregate[1], Xid(aggregate)));
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64BigEndian(aggregate.AsSpan(16)));
        var barrier = _transport.Next();
        Assert.Equal((21, 6u), (barrier[1], Xid(barrier)));
    }

    [Fact]
    public void A_malformed_flow_mod_gets_an_openflow_error_and_the_connection_goes_on()
    {
        var (connection, bridge) = Negotiated(OfpVersion.Of13);
        var truncated = new byte[20];
        Header(OfpVersion.Of13, 14, 9).CopyTo(truncated, 0);
        truncated[3] = 20;
        connection.Tell(Received(truncated));

        var error = _transport.Next(1);
        Assert.Equal(9u, Xid(error));
        Assert.Equal(OfpErrors.Encode(OfpErrorKind.BadRequestLength, OfpVersion.Of13), (BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(8)), BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(10))));
        bridge.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        connection.Tell(Received(Header(OfpVersion.Of13, 2, 10)));
        Assert.Equal(10u, Xid(_transport.Next(3)));
    }

    [Fact]
    public void A_flow_mod_the_bridge_refuses_is_answered_with_its_error_and_an_applied_one_with_nothing()
    {
        var (connection, bridge) = Negotiated(OfpVersion.Of13);
        connection.Tell(Received(FlowModFromCorpus()));
        bridge.ExpectMsg<ApplyFlowMod>();
        bridge.Reply(new OpenFlowRefused(OfpErrorKind.FlowModOverlap, "overlaps"));
        var error = _transport.Next(1);
        Assert.Equal(OfpErrors.Encode(OfpErrorKind.FlowModOverlap, OfpVersion.Of13), (BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(8)), BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(10))));

        connection.Tell(Received(FlowModFromCorpus()));
        bridge.ExpectMsg<ApplyFlowMod>();
        bridge.Reply(new FlowModApplied(2, 1));
        connection.Tell(Received(Header(OfpVersion.Of13, 20, 99)));
        Assert.Equal(99u, Xid(_transport.Next()));
    }

    [Fact]
    public void A_service_connection_gets_packet_ins_only_once_it_sets_miss_send_len_and_then_cut_to_the_actions_max_len()
    {
        var (connection, _) = Negotiated(OfpVersion.Of13);
        var metadata = FlowParser.ParseMatch("in_port=1");
        var packetIn = new PacketToController(new PacketInMessage(PacketInReason.Action, 0, 0x5, metadata, new byte[100], 100), 0, 64);
        connection.Tell(packetIn);
        Assert.True(_transport.Quiet(TimeSpan.FromMilliseconds(200)), "packet_in before miss_send_len was set");

        var setConfig = Header(OfpVersion.Of13, 9, 3, 12);
        BinaryPrimitives.WriteUInt16BigEndian(setConfig.AsSpan(10), 128);
        connection.Tell(Received(setConfig));
        connection.Tell(packetIn);

        var sent = _transport.Next(10);
        Assert.Equal(100, BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(12)));
        Assert.Equal(0x5UL, BinaryPrimitives.ReadUInt64BigEndian(sent.AsSpan(16)));
        Assert.EndsWith(Convert.ToHexString(new byte[64]), Convert.ToHexString(sent), StringComparison.Ordinal);
        Assert.Equal(64, sent.Length - (24 + 16 + 2));
    }

    [Fact]
    public void Port_status_reaches_the_connection_in_its_version()
    {
        var (connection, _) = Negotiated(OfpVersion.Of10);
        connection.Tell(new PortStatusNotice(PortStatusReason.Add, new PortInfo(3, "veth3", 0x0200_0000_0003)));

        var status = _transport.Next(12);
        Assert.Equal(OfpVersion.Of10, status[0]);
        Assert.Equal((byte)PortStatusReason.Add, status[8]);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(status.AsSpan(16)));
        Assert.Equal("veth3", System.Text.Encoding.ASCII.GetString(status, 24, 5));
    }

    [Fact]
    public void An_unanswered_echo_request_closes_an_idle_connection()
    {
        var (connection, _) = Negotiated(OfpVersion.Of10, TimeSpan.FromMilliseconds(200));
        Watch(connection);
        Assert.Equal(2, _transport.Next(2)[1]);
        ExpectTerminated(connection);
        Assert.True(_transport.Closed);
    }

    private (Akka.Actor.IActorRef Connection, Akka.TestKit.TestProbe Bridge) Start(TimeSpan? probe = null)
    {
        var bridge = CreateTestProbe();
        var settings = new OpenFlowConnectionSettings("test", OpenFlowConnectionKind.Service, probe ?? TimeSpan.FromMinutes(1));
        return (Sys.ActorOf(OpenFlowConnectionActor.Props(bridge.Ref, _transport, settings)), bridge);
    }

    private (Akka.Actor.IActorRef Connection, Akka.TestKit.TestProbe Bridge) Negotiated(byte version, TimeSpan? probe = null)
    {
        var (connection, bridge) = Start(probe);
        _transport.Next(0);
        connection.Tell(Received(Hello(version, 1u << version)));
        bridge.ExpectMsg<SubscribeOpenFlow>();
        return (connection, bridge);
    }

    private static OpenFlowReceived Received(byte[] message) => new(message);

    private static uint Xid(byte[] message) => BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(4));

    private static byte[] Header(byte version, byte type, uint xid, int length = 8)
    {
        var m = new byte[length];
        m[0] = version;
        m[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)length);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), xid);
        return m;
    }

    private static byte[] Hello(byte version, uint bitmap)
    {
        var m = Header(version, 0, 1, 16);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(10), 8);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(12), bitmap);
        return m;
    }

    /// <summary>OFPMP_AGGREGATE for every table and flow (OpenFlow 1.3).</summary>
    private static byte[] AggregateRequest13(uint xid)
    {
        var m = Header(OfpVersion.Of13, 18, xid, 56);
        m[9] = 2;
        m[16] = 0xff;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(20), OfpPort.Any);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(24), 0xffffffff);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(48), 1);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(50), 4);
        return m;
    }

    /// <summary>"priority=1 actions=drop" as ovs-ofctl -O OpenFlow13 sends it.</summary>
    private static byte[] FlowModFromCorpus() =>
        Convert.FromHexString("040e00380000000a000000000000000000000000000000000000000000000001ffffffffffffffffffffffff000000000001000400000000");
}
