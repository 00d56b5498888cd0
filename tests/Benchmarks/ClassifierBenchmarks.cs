using Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;

namespace Benchmarks;

/// <summary>
/// Megaflow classifier lookups (the dpcls tuple-space search) of 32 keys per invocation against
/// <see cref="Subtables"/> subtables, each holding 32 megaflows. Subtable s has the mask
/// in_port, recirc_id, eth_type, nw_proto, nw_dst exact and nw_src/(32 - s), and its megaflows match
/// in_port s + 1 only, so a key matches exactly one megaflow and the subtable it lies in is chosen
/// by the key's in_port. Ranking stays in insertion order (no Optimize). Times are per key.
/// </summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    private const int FlowsPerSubtable = Workload.Batch;

    private readonly MegaflowClassifier _classifier = new();
    private readonly Megaflow?[] _results = new Megaflow?[Workload.Batch];
    private FlowKey[] _spread = [];
    private FlowKey[] _lastRanked = [];

    [Params(1, 8, 32)]
    public int Subtables { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        FlowKey[] keys = Workload.Keys(Workload.Frames(Frame));
        var actions = new ActionList([DatapathAction.Output(Workload.OutPort)]);
        var flows = new Megaflow[Subtables, FlowsPerSubtable];
        for (int s = 0; s < Subtables; s++)
        {
            FlowKey mask = MaskOf(s);
            for (int f = 0; f < FlowsPerSubtable; f++)
            {
                FlowKey match = keys[f];
                match.InPort = (uint)s + 1;
                flows[s, f] = new Megaflow(in match, in mask, actions);
                _classifier.Insert(flows[s, f]);
            }
        }

        Check.That(_classifier.SubtableCount == Subtables, "one subtable per mask");

        // Spread: key j lies in subtable j mod N, so every subtable is searched and resolves its share.
        // Last ranked: every key lies in the last subtable probed (the worst case).
        _spread = new FlowKey[Workload.Batch];
        _lastRanked = new FlowKey[Workload.Batch];
        for (int j = 0; j < Workload.Batch; j++)
        {
            _spread[j] = keys[j];
            _spread[j].InPort = (uint)(j % Subtables) + 1;
            _lastRanked[j] = keys[j];
            _lastRanked[j].InPort = (uint)Subtables;
        }

        LookupBatchSpread();
        for (int j = 0; j < Workload.Batch; j++)
        {
            Check.That(ReferenceEquals(_results[j], flows[j % Subtables, j]), "spread keys find their megaflow in a batch");
            Check.That(ReferenceEquals(_classifier.Lookup(in _spread[j]), flows[j % Subtables, j]), "spread keys find their megaflow alone");
        }

        LookupBatchLastRanked();
        for (int j = 0; j < Workload.Batch; j++)
        {
            Check.That(ReferenceEquals(_results[j], flows[Subtables - 1, j]), "last-ranked keys find their megaflow");
        }
    }

    /// <summary>LookupBatch of 32 keys spread evenly over the subtables.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public uint LookupBatchSpread() => _classifier.LookupBatch(_spread, _results);

    /// <summary>LookupBatch of 32 keys that all lie in the last-ranked subtable.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public uint LookupBatchLastRanked() => _classifier.LookupBatch(_lastRanked, _results);

    /// <summary>Single-key Lookup of the spread keys, one at a time.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public int LookupSpread() => LookupEach(_spread);

    /// <summary>Single-key Lookup of the last-ranked keys, one at a time.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public int LookupLastRanked() => LookupEach(_lastRanked);

    private int LookupEach(FlowKey[] keys)
    {
        int found = 0;
        for (int j = 0; j < keys.Length; j++)
        {
            if (_classifier.Lookup(in keys[j]) is not null)
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>Flow j: 10.1.0.(j+1):(1024+j) to 10.2.0.(j+1):5001, so nw_dst alone tells the flows of a subtable apart.</summary>
    private static byte[] Frame(int j) =>
        Workload.Udp4(Workload.ClientIp + (uint)j + 1, Workload.ServerIp + (uint)j, (ushort)(1024 + j), Workload.ServerPort);

    private static FlowKey MaskOf(int subtable)
    {
        var mask = default(FlowKey);
        mask.InPort = uint.MaxValue;
        mask.RecircId = uint.MaxValue;
        mask.EthType = 0xFFFF;
        mask.NwProto = 0xFF;
        mask.NwDst = uint.MaxValue;
        mask.NwSrc = uint.MaxValue << subtable;
        return mask;
    }
}
