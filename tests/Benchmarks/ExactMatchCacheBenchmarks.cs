using Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;

namespace Benchmarks;

/// <summary>
/// EMC hits: 32 keys that are all cached, each hashed (<see cref="FlowHash.Hash"/>) and looked up as
/// the pipeline does; and the whole-key hash alone. Times are per key.
/// </summary>
[MemoryDiagnoser]
public class ExactMatchCacheBenchmarks
{
    private readonly ExactMatchCache _emc = new();
    private FlowKey[] _keys = [];

    [GlobalSetup]
    public void Setup()
    {
        _keys = Workload.Keys(Workload.Frames(Workload.Udp4Frame));
        var mask = default(FlowKey);
        mask.InPort = uint.MaxValue;
        var flow = new Megaflow(in _keys[0], in mask, new ActionList([DatapathAction.Output(Workload.OutPort)]));
        foreach (ref readonly FlowKey key in _keys.AsSpan())
        {
            _emc.Insert(in key, FlowHash.Hash(in key), flow);
        }

        Check.That(HashAndLookup() == Workload.Batch, "every key hits the EMC");
    }

    /// <summary>Hash plus lookup of a key present in the cache.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public int HashAndLookup()
    {
        int hits = 0;
        FlowKey[] keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            if (_emc.Lookup(in keys[i], FlowHash.Hash(in keys[i])) is not null)
            {
                hits++;
            }
        }

        return hits;
    }

    /// <summary>The 18-word key hash alone.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public uint HashOnly()
    {
        uint h = 0;
        FlowKey[] keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            h ^= FlowHash.Hash(in keys[i]);
        }

        return h;
    }
}
