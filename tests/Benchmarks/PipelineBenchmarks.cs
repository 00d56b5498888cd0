using Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Benchmarks;

/// <summary>
/// The whole <see cref="PmdPipeline.Process{TContext}"/> (extract, EMC, megaflow, execute output:2) on
/// one batch of 32 UDP/IPv4 packets of 64 bytes, 32 connections, in steady state (no upcalls).
/// Each invocation first refills the input batch from the pool (rent and copy of a pre-built
/// 64-byte frame per packet, as a receive does); the context returns the packets to that pool and
/// the per-flow batches to the batch pool. <see cref="RefillOnly"/> measures that refill and return
/// alone, to subtract. <see cref="Megaflows"/> is 1 (one megaflow matching in_port and eth_type
/// serves every connection: one output batch) or 32 (a megaflow per connection on the 5-tuple:
/// 32 output batches of one packet). Times are per packet.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const long NowMs = 1000;

    private readonly PacketBatch _input = new();
    private readonly PacketPool _packets = new(2 * Workload.Batch);
    private readonly PacketBatchPool _batches = new();
    private byte[][] _frames = [];
    private PmdPipeline _withEmc = null!;
    private PmdPipeline _withoutEmc = null!;
    private BenchContext _ctx;

    [Params(1, 32)]
    public int Megaflows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _frames = Workload.Frames(Workload.Udp4Frame);
        _ctx = new BenchContext(_packets, _batches);
        var actions = new ActionList([DatapathAction.Output(Workload.OutPort)]);
        var upcall = new FixedUpcall(MaskOf(Megaflows), actions);

        // Insert every megaflow hit into the EMC, so that the EMC is full of the workload after one batch.
        _withEmc = new PmdPipeline(new ExactMatchCache(insertInverseProbability: 1), new MegaflowClassifier(), upcall, _batches);
        _withoutEmc = new PmdPipeline(null, new MegaflowClassifier(), upcall, _batches);

        for (int i = 0; i < 3; i++)
        {
            EmcHit();
            MegaflowOnly();
        }

        Check.That(upcall.Calls == 2 * Megaflows, "each pipeline makes one upcall per megaflow, then none");
        Check.That(_withEmc.Classifier.Count == Megaflows && _withoutEmc.Classifier.Count == Megaflows, "the expected megaflows are installed");

        long emcHits = _withEmc.Stats.EmcHits;
        long megaflowHits = _withoutEmc.Stats.MegaflowHits;
        long outputs = _ctx.Outputs;
        long batchesCreated = _batches.Created;
        EmcHit();
        MegaflowOnly();
        Check.That(_withEmc.Stats.EmcHits - emcHits == Workload.Batch, "in steady state every packet hits the EMC");
        Check.That(_withoutEmc.Stats.MegaflowHits - megaflowHits == Workload.Batch, "without EMC every packet hits a megaflow");
        Check.That(_ctx.Outputs - outputs == 2 * Workload.Batch && _ctx.Unexpected == 0, "every packet is output once");
        Check.That(_batches.Created == batchesCreated, "per-flow batches are recycled");
        Check.That(_packets.Available == _packets.Size && _packets.Exhausted == 0, "every packet returns to the pool");
    }

    /// <summary>Every packet hits the EMC.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public long EmcHit()
    {
        Refill();
        _withEmc.Process(_input, NowMs, ref _ctx);
        return _ctx.Outputs;
    }

    /// <summary>EMC off: every packet goes through the megaflow classifier (one subtable) and hits.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public long MegaflowOnly()
    {
        Refill();
        _withoutEmc.Process(_input, NowMs, ref _ctx);
        return _ctx.Outputs;
    }

    /// <summary>The harness cost included in the two above: refill the batch from the pool and return it.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public int RefillOnly()
    {
        Refill();
        int count = _input.Count;
        _packets.Return(_input);
        return count;
    }

    private void Refill()
    {
        byte[][] frames = _frames;
        for (int i = 0; i < frames.Length; i++)
        {
            _packets.TryRent(out Packet packet);
            packet.SetFrame(frames[i], Workload.InPort);
            _input.Add(packet);
        }
    }

    private static FlowKey MaskOf(int megaflows)
    {
        var mask = default(FlowKey);
        mask.InPort = uint.MaxValue;
        mask.RecircId = uint.MaxValue;
        mask.EthType = 0xFFFF;
        if (megaflows == Workload.Batch)
        {
            mask.NwProto = 0xFF;
            mask.NwSrc = uint.MaxValue;
            mask.NwDst = uint.MaxValue;
            mask.TpSrc = 0xFFFF;
            mask.TpDst = 0xFFFF;
        }
        else
        {
            Check.That(megaflows == 1, "Megaflows is 1 or 32");
        }

        return mask;
    }
}
