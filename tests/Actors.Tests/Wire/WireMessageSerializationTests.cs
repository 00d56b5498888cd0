using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Actors.Node;
using Actors.Tests.Support;
using Actors.Wire;
using Akka.Serialization;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Actors.Tests.Wire;

/// <summary>Every message that may cross nodes goes through Hyperion, as hocon/datapath.conf binds it, and comes back equal.</summary>
public sealed class WireMessageSerializationTests : Akka.TestKit.Xunit2.TestKit
{
    public WireMessageSerializationTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    /// <summary>One filled-in sample of every wire message type.</summary>
    public static IEnumerable<IWireMessage> Samples()
    {
        var inputs = CaptureInputs.Frames("tcp-http.pcap", 1, 5);
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var args = new ConntrackArgs { Zone = 0, Commit = true, Mark = 0x12, MarkMask = 0xff, Label = UInt128.MaxValue - 7, LabelMask = UInt128.MaxValue };
        var results = new ConntrackResult[inputs.Length];
        table.Execute(inputs, in args, 1000, results);

        yield return new TrackConnections(3, 42, 1_700_000_000_123, args, inputs);
        yield return new ConnectionsTracked(3, 42, results);
        yield return new FlushConnections(7);
        yield return new FlushConnections(null);
        yield return new ConnectionsFlushed(2, 17);
        yield return new DumpConnections(5);
        yield return new ConnectionsDumped(1, ["tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),protoinfo=(state=ESTABLISHED)"]);
        yield return GetShardStatistics.Instance;
        yield return FindShardHost.Instance;
        yield return new ShardStatistics(4, 9, 10, 320, 77, [1, 2, 3, long.MaxValue]);
        yield return RestartShard.Instance;
        yield return new ConntrackEnvelope(6, new FlushConnections(3));
        yield return new BypassFlowInstalled(inputs[2].Key, inputs[2].ShardHash);
        yield return new BypassFlowsRevoked(1, [inputs[0].Key, inputs[3].Key], [inputs[0].ShardHash, inputs[3].ShardHash]);
        yield return new ConnectionsTracked(3, 43, results, inputs);
        yield return new ReserveReplyTuple(5, 2, inputs[1].Key, inputs[0].Key, 1_700_000_000_456);
        yield return new ReplyTupleReserved(2, inputs[1].Key, inputs[0].Key, Granted: true);
        yield return new ReplyTupleReleased(5, inputs[1].Key, inputs[0].Key);
        yield return new CheckReplyOwner(6, 5, inputs[0].Key, inputs[1].Key, 1_700_000_000_789, ForClaim: false);
        yield return new ReplyOwnerChecked(5, inputs[0].Key, inputs[1].Key, Alive: true, ForClaim: true);
        yield return new ConfigureConntrack(1000, false, 50, [new ZoneLimitSetting(7, 20)], [9]);
        yield return new GetConntrackLimits([7, 9]);
        yield return new GetConntrackLimits(null);
        yield return new ConntrackLimits(2, 1000, 17, true, 50, [new ZoneLimitReport(7, 20, 3)]);
        yield return new CountConnections(4);
        yield return new ConnectionsCounted(2, new ConntrackProtocolCounts { Total = 5, Tcp = 2, Udp = 3, TcpStates = [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0] });
        yield return new FlushConnectionsMatching(["zone=3", "ct_nw_src=10.0.0.1,ct_nw_proto=17"]);

        // Hand-off: a real chunk of the table above.
        table.BeginExport().TryNextChunk(4096, out var chunk, out _);
        yield return HandOffShard.Instance;
        yield return new ClaimShardState(5);
        yield return new ShardStateNotHere(5);
        yield return new ShardStateChunk(5, 9, 0, true, 1_700_000_000_000, table.Count, chunk);
        yield return new ShardStateChunkAck(5, 9, 0);
        yield return new ShardStateAccepted(5, 9, table.Count);
        yield return new ShardStateGivenUp(5, 9, "chunk 0: chunk checksum mismatch");
        yield return GetHandoffStatistics.Instance;
        yield return new HandoffStatistics(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        yield return new NodeLeaving("akka.tcp://datapath@127.0.0.1:4054");
        yield return new NodeLeavingNoted("akka.tcp://datapath@127.0.0.1:4054");
        yield return GetConntrackShape.Instance;
        yield return new ConntrackShape(16, ConnectionTable.TransferFormat);

        // Replicas: a real delta of the table above.
        var delta = new List<byte[]>();
        var changing = new ConnectionTable(Defaults.ConntrackOptions);
        changing.BeginReplicaSeed();
        changing.Execute(inputs, in args, 1, new ConntrackResult[inputs.Length]);
        changing.DrainChanges(4096, delta);
        yield return new ReplicaChunk(5, 77, 3, false, false, 1_700_000_000_000, delta[0]);
        yield return new ReplicaResyncNeeded(5, 77, "delta 4 came where 3 was due");
        yield return new ForgetReplica(5);
        yield return new OfferReplica(5);
        yield return new ReplicaOffered(5, 77, true, 12, 1_700_000_000_000, 40);
        yield return new ReplicaNotHere(5);
        yield return GetReplicaStatistics.Instance;
        var replica = new ReplicaState(5, "akka.tcp://datapath@127.0.0.1:4054", 77, 4, true, 12, 1_700_000_000_000, 40);
        yield return replica;
        yield return new ReplicaStatistics([replica], 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);

        // Two-process replay.
        yield return new ReplayRun([1, 2], [1, 2], [10, 20], [[1, 2, 3], [4, 5]]);
        yield return new ReplayRunDone(["1 1 -> 2", "2 2 -> 1"]);
        yield return new ReplayRunFailed("a replay run whose arrays differ in length");
        yield return LeaveReplay.Instance;
    }

    [Fact]
    public void Every_wire_message_type_has_a_sample_here()
    {
        var wireTypes = typeof(IWireMessage).Assembly.GetTypes()
            .Where(t => typeof(IWireMessage).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
            .Select(t => t.FullName)
            .Order(StringComparer.Ordinal);
        var sampled = Samples().Select(m => m.GetType().FullName).Distinct().Order(StringComparer.Ordinal);

        Assert.Equal(wireTypes, sampled);
    }

    [Fact]
    public void The_handshake_sample_holds_real_results_so_the_round_trip_checks_something()
    {
        var tracked = Samples().OfType<ConnectionsTracked>().First();

        Assert.Equal(CtState.New | CtState.Tracked, tracked.Results[2].State);
        Assert.Equal(0x12u, tracked.Results[2].Mark);
        Assert.NotEqual(UInt128.Zero, tracked.Results[2].Label);
        Assert.NotEqual(default, tracked.Results[2].OriginalTuple);
    }

    [Fact]
    public void Every_wire_message_is_written_by_Hyperion_and_reads_back_equal()
    {
        var serialization = Sys.Serialization;
        foreach (var message in Samples())
        {
            var serializer = serialization.FindSerializerFor(message);
            Assert.IsType<Akka.Serialization.HyperionSerializer>(serializer);

            byte[] bytes = serializer.ToBinary(message);
            object back = serialization.Deserialize(bytes, serializer.Identifier, Serialization.ManifestFor(serializer, message));

            Assert.IsType(message.GetType(), back);
            AssertSameContent(message, back);
        }
    }

    private static void AssertSameContent(object expected, object actual)
    {
        switch (expected)
        {
            case TrackConnections e:
                var a = (TrackConnections)actual;
                Assert.Equal((e.Shard, e.BatchId, e.NowMs, e.Args), (a.Shard, a.BatchId, a.NowMs, a.Args));
                Assert.Equal(e.Inputs, a.Inputs);
                break;
            case ConnectionsTracked e:
                var t = (ConnectionsTracked)actual;
                Assert.Equal((e.Shard, e.BatchId), (t.Shard, t.BatchId));
                Assert.Equal(e.Results, t.Results);
                Assert.Equal(e.Inputs, t.Inputs);
                break;
            case BypassFlowsRevoked e:
                var r = (BypassFlowsRevoked)actual;
                Assert.Equal(e.Shard, r.Shard);
                Assert.Equal(e.Keys, r.Keys);
                Assert.Equal(e.ShardHashes, r.ShardHashes);
                break;
            case ConnectionsDumped e:
                var d = (ConnectionsDumped)actual;
                Assert.Equal(e.Shard, d.Shard);
                Assert.Equal(e.Lines, d.Lines);
                break;
            case ConntrackLimits e:
                var l = (ConntrackLimits)actual;
                Assert.Equal((e.Shard, e.MaxConnections, e.Connections, e.TcpSequenceCheck, e.DefaultZoneLimit), (l.Shard, l.MaxConnections, l.Connections, l.TcpSequenceCheck, l.DefaultZoneLimit));
                Assert.Equal(e.Zones, l.Zones);
                break;
            case ConnectionsCounted e:
                var c = (ConnectionsCounted)actual;
                Assert.Equal(e.Shard, c.Shard);
                Assert.Equal((e.Counts.Total, e.Counts.Tcp, e.Counts.Udp), (c.Counts.Total, c.Counts.Tcp, c.Counts.Udp));
                Assert.Equal(e.Counts.TcpStates, c.Counts.TcpStates);
                break;
            case ConfigureConntrack e:
                var f = (ConfigureConntrack)actual;
                Assert.Equal((e.MaxConnections, e.TcpSequenceCheck, e.DefaultZoneLimit), (f.MaxConnections, f.TcpSequenceCheck, f.DefaultZoneLimit));
                Assert.Equal(e.ZoneLimits, f.ZoneLimits);
                Assert.Equal(e.RemovedZones, f.RemovedZones);
                break;
            case GetConntrackLimits e:
                Assert.Equal(e.Zones, ((GetConntrackLimits)actual).Zones);
                break;
            case FlushConnectionsMatching e:
                Assert.Equal(e.Filter, ((FlushConnectionsMatching)actual).Filter);
                break;
            case ShardStatistics e:
                var s = (ShardStatistics)actual;
                Assert.Equal((e.Shard, e.Connections, e.Batches, e.Packets, e.SweepSlices), (s.Shard, s.Connections, s.Batches, s.Packets, s.SweepSlices));
                Assert.Equal(e.Counters, s.Counters);
                break;
            case ShardStateChunk e:
                var chunk = (ShardStateChunk)actual;
                Assert.Equal((e.Shard, e.TransferId, e.Sequence, e.Last, e.ClockMs, e.Connections), (chunk.Shard, chunk.TransferId, chunk.Sequence, chunk.Last, chunk.ClockMs, chunk.Connections));
                Assert.Equal(e.Data, chunk.Data);
                Assert.True(new ConnectionTable(Defaults.ConntrackOptions).Import(chunk.Data).Ok);
                break;
            case ReplicaChunk e:
                var replicaChunk = (ReplicaChunk)actual;
                Assert.Equal(e with { Data = [] }, replicaChunk with { Data = [] });
                Assert.Equal(e.Data, replicaChunk.Data);
                Assert.True(new ConnectionTable(Defaults.ConntrackOptions).ApplyReplica(replicaChunk.Data).Ok);
                break;
            case ReplicaStatistics e:
                var statistics = (ReplicaStatistics)actual;
                Assert.Equal(e.Replicas, statistics.Replicas);
                Assert.Equal(e with { Replicas = [] }, statistics with { Replicas = [] });
                break;
            case ReplayRun e:
                var run = (ReplayRun)actual;
                Assert.Equal(e.Numbers, run.Numbers);
                Assert.Equal(e.Ports, run.Ports);
                Assert.Equal(e.TimesMs, run.TimesMs);
                Assert.Equal(e.Frames, run.Frames);
                break;
            case ReplayRunDone e:
                Assert.Equal(e.Verdicts, ((ReplayRunDone)actual).Verdicts);
                break;
            default:
                // The other records hold only values, so record equality compares their content.
                Assert.Equal(expected, actual);
                break;
        }
    }
}
