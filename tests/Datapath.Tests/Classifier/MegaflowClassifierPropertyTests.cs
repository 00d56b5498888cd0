using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;

namespace Datapath.Tests.Classifier;

/// <summary>The classifier against a linear scan, over random non-overlapping rule sets and random keys.</summary>
public class MegaflowClassifierPropertyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Single_and_batch_lookups_agree_with_a_linear_scan_through_inserts_removals_deaths_and_reranking(int seed)
    {
        var random = new Random(seed);
        var gen = new RandomFlows(random);
        var classifier = new MegaflowClassifier();
        var naive = new NaiveClassifier();
        var keys = new FlowKey[MegaflowClassifier.MaxBatch];
        var results = new Megaflow?[MegaflowClassifier.MaxBatch];
        var sentinel = gen.NextFlow();
        long hits = 0, misses = 0;

        for (int i = 0; i < 1000; i++)
        {
            TryInsert(gen.NextFlow());
        }

        for (int round = 0; round < 300; round++)
        {
            Mutate();

            for (int i = 0; i < 20; i++)
            {
                FlowKey key = gen.NextKey();
                Megaflow? expected = naive.Lookup(in key);
                Assert.Same(expected, classifier.Lookup(in key));
                if (expected is null)
                {
                    misses++;
                }
                else
                {
                    hits++;
                }
            }

            int n = 1 + random.Next(MegaflowClassifier.MaxBatch);
            uint keyMask = random.Next(3) == 0 ? uint.MaxValue : (uint)random.NextInt64();
            for (int i = 0; i < n; i++)
            {
                keys[i] = gen.NextKey();
                results[i] = sentinel;
            }

            uint unresolved = random.Next(2) == 0 && keyMask == uint.MaxValue
                ? classifier.LookupBatch(keys.AsSpan(0, n), results)
                : classifier.LookupBatch(keys.AsSpan(0, n), results, keyMask);

            uint expectedUnresolved = 0;
            for (int i = 0; i < n; i++)
            {
                if ((keyMask & (1u << i)) == 0)
                {
                    Assert.Same(sentinel, results[i]);
                    continue;
                }

                Megaflow? expected = naive.Lookup(in keys[i]);
                Assert.Same(expected, results[i]);
                if (expected is null)
                {
                    expectedUnresolved |= 1u << i;
                }
            }

            Assert.Equal(expectedUnresolved, unresolved);

            if (round % 25 == 24)
            {
                classifier.Optimize();
            }

            Assert.Equal(naive.Count, classifier.Count);
            Assert.Equal(naive.DistinctMasks(), classifier.SubtableCount);
        }

        // The generator must exercise both outcomes, or the comparison proves little.
        Assert.True(hits > 500, $"only {hits} hits");
        Assert.True(misses > 500, $"only {misses} misses");
        AssertSameFlows(naive, classifier);

        void TryInsert(Megaflow candidate)
        {
            if (naive.Admits(candidate))
            {
                naive.Insert(candidate);
                classifier.Insert(candidate);
            }
        }

        void Mutate()
        {
            switch (random.Next(4))
            {
                case 0 when naive.Count > 0:
                    Megaflow victim = naive.Flows[random.Next(naive.Count)];
                    Assert.True(naive.Remove(victim));
                    Assert.True(classifier.Remove(victim));
                    Assert.False(classifier.Remove(victim));
                    break;
                case 1 when naive.Count > 0:
                    naive.Flows[random.Next(naive.Count)].MarkDead();
                    break;
                case 2 when naive.Count > 0:
                    // Remove and re-insert the same flow: it must be found again.
                    Megaflow again = naive.Flows[random.Next(naive.Count)];
                    naive.Remove(again);
                    classifier.Remove(again);
                    TryInsert(again);
                    break;
                default:
                    for (int i = 0; i < 3; i++)
                    {
                        TryInsert(gen.NextFlow());
                    }

                    break;
            }
        }
    }

    [Fact]
    public void Large_rule_sets_of_exact_matches_agree_with_a_linear_scan_as_tables_grow_and_shrink()
    {
        var random = new Random(7);
        var gen = new RandomFlows(random);
        var classifier = new MegaflowClassifier();
        var naive = new NaiveClassifier();
        FlowKey exact = FlowKey.AllOnes;

        // Exact matches never overlap unless equal, so thousands fit one subtable and force growth
        // and long probe runs; removals in random order exercise backward-shift deletion.
        var seen = new HashSet<FlowKey>();
        for (int i = 0; i < 3000; i++)
        {
            FlowKey key = gen.NextKey();
            key.NwSrc = (uint)random.Next(1 << 12);
            if (seen.Add(key))
            {
                var flow = new Megaflow(in key, in exact, ActionList.Empty);
                naive.Insert(flow);
                classifier.Insert(flow);
            }
        }

        Assert.Equal(1, classifier.SubtableCount);
        int hits = 0;
        for (int step = 0; step < 3000; step++)
        {
            if (step % 2 == 0 && naive.Count > 0)
            {
                Megaflow victim = naive.Flows[random.Next(naive.Count)];
                naive.Remove(victim);
                classifier.Remove(victim);
            }

            FlowKey key = gen.NextKey();
            key.NwSrc = (uint)random.Next(1 << 12);
            if (naive.Count > 0 && random.Next(2) == 0)
            {
                key = naive.Flows[random.Next(naive.Count)].Key;
            }

            Megaflow? expected = naive.Lookup(in key);
            Assert.Same(expected, classifier.Lookup(in key));
            hits += expected is null ? 0 : 1;
        }

        Assert.InRange(hits, 1000, 2900);
        Assert.Equal(naive.Count, classifier.Count);
        AssertSameFlows(naive, classifier);
    }

    private static void AssertSameFlows(NaiveClassifier naive, MegaflowClassifier classifier)
    {
        var enumerated = new HashSet<Megaflow>(ReferenceEqualityComparer.Instance);
        foreach (Megaflow flow in classifier.Flows)
        {
            Assert.True(enumerated.Add(flow), "a flow was enumerated twice");
        }

        Assert.Equal(naive.Count, enumerated.Count);
        foreach (Megaflow flow in naive.Flows)
        {
            Assert.Contains(flow, enumerated);
        }
    }
}
