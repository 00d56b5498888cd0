using TestSupport.Frames;
using Datapath.Tests.Support;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// ct_nw_src and friends match the original-direction tuple in both directions (what conntrack
/// wrote into the packet), and ct_clear makes a packet forget its conntrack state in the datapath,
/// so that a later ct in the same zone sees it as never tracked.
/// </summary>
public sealed class CtTupleMatchTests
{
    private const string Flows = """
        table=0, ip, actions=ct(table=1,zone=1,nat)
        table=1, priority=10, ct_state=+new+trk, ip, in_port=1, actions=ct(commit,zone=1,nat(src=192.0.2.100)),output:2
        table=1, priority=10, ct_state=+est+trk, ip, in_port=2, ct_nw_src=10.0.0.1, ct_nw_proto=17, ct_tp_src=5000, actions=output:1
        table=1, priority=10, ct_state=+est+trk, ip, in_port=2, ct_nw_src=10.0.0.2, actions=ct_clear,ct(table=2,zone=1,nat)
        table=1, priority=10, ct_state=+est+trk, ip, in_port=2, ct_nw_src=10.0.0.3, actions=ct(table=2,zone=1,nat)
        table=1, priority=0, actions=drop
        table=2, priority=10, ct_state=+new+trk, ip, actions=output:1
        table=2, priority=5, ct_state=+est+trk, ip, actions=IN_PORT
        table=2, priority=0, actions=drop
        """;

    [Fact]
    public void A_reply_matches_its_connection_original_source_and_ct_clear_forgets_the_state()
    {
        var rig = new Rig();
        for (int host = 1; host <= 3; host++)
        {
            Assert.Equal(2u, rig.Send(Frame.Ip($"10.0.0.{host}", "198.51.100.53").Udp(5000, 53).Payload(12).Build(), 1));
        }

        // Host 1: ct_nw_src, ct_nw_proto and ct_tp_src are those of the original direction.
        Assert.Equal(1u, rig.Send(Frame.Ip("198.51.100.53", "192.0.2.100").Udp(53, 5000).Payload(12).Build(), 2));

        // Host 2: cleared, then looked up again in zone 1 as it now is (un-NATed): not the
        // connection's original or reply tuple, so +new.
        Assert.Equal(1u, rig.Send(Frame.Ip("198.51.100.53", "192.0.2.100").Udp(53, 5001).Payload(12).Build(), 2));

        // Host 3: not cleared: the packet still says +dnat in zone 1, so the second ct finds the
        // connection by its translated tuple (+est, sent back out of its port) and does not translate it again.
        Assert.Equal(2u, rig.Send(Frame.Ip("198.51.100.53", "192.0.2.100").Udp(53, 5002).Payload(12).Build(), 2));
    }

    private sealed class Rig
    {
        private readonly InlineDatapath _datapath;
        private readonly Sink _sink = new();
        private long _now = 1000;

        public Rig()
        {
            var tables = new OpenFlowTables();
            tables.AddFlows(Flows, "ct-tuple.flows");
            _datapath = new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2]), Defaults.PmdCoreOptions, new Datapath.Conntrack.ConnectionTable(Defaults.ConntrackOptions));
        }

        /// <summary>The port the frame left on, 0 when dropped.</summary>
        public uint Send(byte[] frame, uint inPort)
        {
            _sink.Port = 0;
            Assert.True(_datapath.TryReceive(frame, inPort, out var packet));
            var batch = new PacketBatch();
            batch.Add(packet);
            _datapath.Process(batch, _now++, _sink);
            return _sink.Port;
        }
    }

    private sealed class Sink : IPacketSink
    {
        public uint Port { get; set; }

        public void Transmit(uint port, Packet packet) => Port = port;
    }
}
