using Datapath.Actions;
using Datapath.Bypass;
using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Stats;

namespace Datapath.Tests.Pipeline.Core;

/// <summary>
/// A bypass flow's guard on the packets its ct answered: passing runs continue after the guard,
/// failing runs recirculate with the fallback id, in arrival order, and the bypass hears of each failure.
/// </summary>
public sealed class GuardStageTests
{
    private const uint Fallback = 9;

    [Fact]
    public void Runs_of_passing_and_failing_packets_are_queued_in_order_each_the_way_it_goes()
    {
        var rig = new Rig(nowMs: 77);
        var packets = new[] { Established(), Established(), New(), Established() };

        rig.Run(packets, resumeAt: 5);

        Assert.True(rig.Queue.TryDequeue(out var passed));
        Assert.True(rig.Queue.TryDequeue(out var failed));
        Assert.True(rig.Queue.TryDequeue(out var passedAgain));
        Assert.False(rig.Queue.TryDequeue(out _));
        Assert.Equal(packets[..2], passed.Batch.Packets.ToArray());
        Assert.Same(rig.Actions, passed.Actions);
        Assert.Equal(5, passed.ResumeAt);
        Assert.Equal(packets[2..3], failed.Batch.Packets.ToArray());
        Assert.Null(failed.Actions);
        Assert.Equal(packets[3..], passedAgain.Batch.Packets.ToArray());

        Assert.Equal((Fallback, (byte)2), (packets[2].Metadata.RecircId, packets[2].Metadata.RecircDepth));
        Assert.Equal([packets[2]], rig.Bypass.Failed);
        Assert.Equal((1L, 1L), (rig.Stats.BypassGuardFallbacks, rig.Execution.PacketsRecirculated));
        Assert.Equal(3, rig.Recirculated.Stats.Packets);
        Assert.Equal(77, rig.Recirculated.Stats.UsedMs);
        Assert.Equal(0x02, rig.Recirculated.Stats.TcpFlags);
    }

    [Fact]
    public void A_batch_whose_packets_all_pass_continues_as_it_is_and_is_credited_as_each_packet_would_be()
    {
        var rig = new Rig(nowMs: 91);
        var packets = new[] { Established(), Established(length: 100, tcpFlags: 0x10), Established(length: 1500, tcpFlags: 0x18) };

        var batch = rig.Run(packets, resumeAt: 3);

        Assert.True(rig.Queue.TryDequeue(out var passed));
        Assert.False(rig.Queue.TryDequeue(out _));
        Assert.Same(batch, passed.Batch);
        Assert.Equal(packets, passed.Batch.Packets.ToArray());
        Assert.Same(rig.Actions, passed.Actions);
        Assert.Equal(3, passed.ResumeAt);
        Assert.Empty(rig.Bypass.Failed);
        Assert.Equal((0L, 0L), (rig.Stats.BypassGuardFallbacks, rig.Execution.PacketsRecirculated));
        var credited = rig.Recirculated.Stats;
        Assert.Equal((3L, 64L + 100 + 1500, (ushort)0x1A, 91L), (credited.Packets, credited.Bytes, credited.TcpFlags, credited.UsedMs));
    }

    private static Megaflow Recirculated()
    {
        var mask = default(FlowKey);
        mask.CtState = CtState.Established | CtState.Tracked | CtState.New;
        var key = default(FlowKey);
        key.CtState = CtState.Established | CtState.Tracked;
        return new Megaflow(in key, in mask, new ActionList([DatapathAction.Output(2)]));
    }

    private static Packet Established(int length = 64, ushort tcpFlags = 0x02)
    {
        var packet = new Packet();
        packet.SetFrame(new byte[length], 1);
        packet.Metadata.RecircDepth = 1;
        packet.Metadata.CtState = CtState.Established | CtState.Tracked;
        packet.PassTcpFlags = tcpFlags;
        return packet;
    }

    private static Packet New()
    {
        var packet = Established();
        packet.Metadata.CtState = CtState.New | CtState.Tracked;
        return packet;
    }

    /// <summary>A guard stage with its queue, statistics and a bypass that records failures, guarding with <see cref="Recirculated()"/>.</summary>
    private sealed class Rig
    {
        private readonly PacketBatchPool _batches = new();
        private readonly GuardStage _stage;

        public Rig(long nowMs)
        {
            var coreStats = new PmdCoreStats();
            Queue = new RecirculationQueue(8, new PmdPackets(1, _batches, coreStats), coreStats);
            _stage = new GuardStage(Bypass, Stats, Execution, Queue, _batches, new PmdClock { NowMs = nowMs });
        }

        public PmdStats Stats { get; } = new();

        public ExecutionStats Execution { get; } = new();

        public FailureRecorder Bypass { get; } = new();

        public RecirculationQueue Queue { get; }

        public Megaflow Recirculated { get; } = GuardStageTests.Recirculated();

        public ActionList Actions { get; } = new([DatapathAction.Output(2)]);

        /// <summary>Runs the guard on a batch of <paramref name="packets"/>; returns that batch.</summary>
        public PacketBatch Run(Packet[] packets, int resumeAt)
        {
            var batch = _batches.Rent();
            foreach (var packet in packets)
            {
                batch.Add(packet);
            }

            _stage.Run(batch, new CtGuard(Recirculated, Fallback), Actions, resumeAt);
            return batch;
        }
    }

    /// <summary>A bypass that only records which packets failed their guard.</summary>
    private sealed class FailureRecorder : IRecirculationBypass
    {
        public List<Packet> Failed { get; } = [];

        public BypassMode Mode => BypassMode.PerConnection;

        public int Count => 0;

        public int LookupBeforeEmc(ReadOnlySpan<Packet> packets, ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<Megaflow?> flows) => 0;

        public int LookupAfterEmc(ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<int> misses, int count, Span<Megaflow?> flows) => count;

        public void OnClassified(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys)
        {
        }

        public void OnGuardFailed(Packet packet) => Failed.Add(packet);

        public void OnMegaflowsRemoved()
        {
        }

        public int Revoke(in ConntrackKey connection, uint connectionHash) => 0;
    }
}
