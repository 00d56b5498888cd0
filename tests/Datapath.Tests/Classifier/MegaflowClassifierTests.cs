using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Tests.Classifier;

public class MegaflowClassifierTests
{
    [Fact]
    public void Lookup_finds_the_megaflow_whose_masked_match_the_key_satisfies()
    {
        var classifier = new MegaflowClassifier();
        Megaflow port1 = InPortFlow(1), port2 = InPortFlow(2);
        classifier.Insert(port1);
        classifier.Insert(port2);

        Assert.Same(port1, classifier.Lookup(Packet(inPort: 1, tpDst: 80)));
        Assert.Same(port2, classifier.Lookup(Packet(inPort: 2, tpDst: 443)));
        Assert.Null(classifier.Lookup(Packet(inPort: 3, tpDst: 80)));
        Assert.Equal(2, classifier.Hits);
        Assert.Equal(1, classifier.Misses);
    }

    [Fact]
    public void Flows_with_one_mask_share_a_subtable_and_each_new_mask_adds_one()
    {
        var classifier = new MegaflowClassifier();
        classifier.Insert(InPortFlow(1));
        classifier.Insert(InPortFlow(2));
        classifier.Insert(CtFlow(3, CtState.Established | CtState.Tracked));

        Assert.Equal(3, classifier.Count);
        Assert.Equal(2, classifier.SubtableCount);
        Assert.Equal(2, classifier.Subtables[0].Count);
        Assert.Equal(1, classifier.Subtables[1].Count);
    }

    [Fact]
    public void Removing_the_last_flow_of_a_subtable_removes_the_subtable()
    {
        var classifier = new MegaflowClassifier();
        Megaflow a = InPortFlow(1), b = InPortFlow(2), ct = CtFlow(3, CtState.New | CtState.Tracked);
        classifier.Insert(a);
        classifier.Insert(b);
        classifier.Insert(ct);

        Assert.True(classifier.Remove(a));
        Assert.Equal(2, classifier.SubtableCount);
        Assert.True(classifier.Remove(b));

        Assert.Equal(1, classifier.SubtableCount);
        Assert.Equal(1, classifier.Count);
        Assert.Equal(ct.Mask, classifier.Subtables[0].Mask);
        Assert.Null(classifier.Lookup(Packet(inPort: 1, tpDst: 80)));
    }

    [Fact]
    public void Removing_a_flow_that_is_not_installed_returns_false()
    {
        var classifier = new MegaflowClassifier();
        Megaflow installed = InPortFlow(1);
        classifier.Insert(installed);

        Assert.False(classifier.Remove(InPortFlow(1)));
        Assert.False(classifier.Remove(CtFlow(1, CtState.New)));
        Assert.Equal(1, classifier.Count);
    }

    [Fact]
    public void Installing_the_same_instance_twice_is_rejected()
    {
        var classifier = new MegaflowClassifier();
        Megaflow flow = InPortFlow(1);
        classifier.Insert(flow);

        Assert.Throws<ArgumentException>(() => classifier.Insert(flow));
        Assert.Equal(1, classifier.Count);
    }

    [Fact]
    public void A_dead_megaflow_no_longer_matches_and_its_replacement_does()
    {
        var classifier = new MegaflowClassifier();
        Megaflow old = InPortFlow(1);
        classifier.Insert(old);
        old.MarkDead();

        Assert.Null(classifier.Lookup(Packet(inPort: 1, tpDst: 80)));

        Megaflow replacement = InPortFlow(1);
        classifier.Insert(replacement);
        Assert.Same(replacement, classifier.Lookup(Packet(inPort: 1, tpDst: 80)));
    }

    [Fact]
    public void Optimize_ranks_subtables_by_hits_since_the_last_call()
    {
        var classifier = new MegaflowClassifier();
        Megaflow byPort = InPortFlow(1);
        Megaflow byCt = CtFlow(2, CtState.Established | CtState.Tracked);
        classifier.Insert(byPort);
        classifier.Insert(byCt);
        FlowKey ctPacket = Packet(inPort: 2, tpDst: 80, ct: CtState.Established | CtState.Tracked);

        for (int i = 0; i < 5; i++)
        {
            Assert.Same(byCt, classifier.Lookup(in ctPacket));
        }

        classifier.Lookup(Packet(inPort: 1, tpDst: 80));
        Assert.Equal(byPort.Mask, classifier.Subtables[0].Mask);

        classifier.Optimize();

        Assert.Equal(byCt.Mask, classifier.Subtables[0].Mask);
        Assert.Equal(0, classifier.Subtables[0].Hits);
        Assert.Equal(0, classifier.Subtables[1].Hits);
    }

    [Fact]
    public void Subtable_lookups_count_the_subtables_probed_per_hit()
    {
        var classifier = new MegaflowClassifier();
        classifier.Insert(InPortFlow(1));
        classifier.Insert(CtFlow(2, CtState.New | CtState.Tracked));

        classifier.Lookup(Packet(inPort: 1, tpDst: 80));
        classifier.Lookup(Packet(inPort: 2, tpDst: 80, ct: CtState.New | CtState.Tracked));

        Assert.Equal(1 + 2, classifier.SubtableLookups);
    }

    [Fact]
    public void A_batch_lookup_fills_only_the_selected_keys_and_returns_the_misses()
    {
        var classifier = new MegaflowClassifier();
        Megaflow port1 = InPortFlow(1);
        classifier.Insert(port1);
        FlowKey[] keys = [Packet(inPort: 1, tpDst: 1), Packet(inPort: 2, tpDst: 1), Packet(inPort: 1, tpDst: 2), Packet(inPort: 9, tpDst: 1)];
        Megaflow untouched = InPortFlow(7);
        var results = new Megaflow?[] { untouched, untouched, untouched, untouched };

        uint misses = classifier.LookupBatch(keys, results, keyMask: 0b1011);

        Assert.Equal(0b1010u, misses);
        Assert.Same(port1, results[0]);
        Assert.Null(results[1]);
        Assert.Same(untouched, results[2]);
        Assert.Null(results[3]);
        Assert.Equal(1, classifier.Hits);
        Assert.Equal(2, classifier.Misses);
    }

    [Fact]
    public void A_batch_resolved_in_the_first_subtable_credits_it_with_every_hit()
    {
        var classifier = new MegaflowClassifier();
        classifier.Insert(InPortFlow(1));
        classifier.Insert(CtFlow(2, CtState.New | CtState.Tracked));
        var keys = new FlowKey[MegaflowClassifier.MaxBatch];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Packet(inPort: 1, tpDst: (ushort)i);
        }

        var results = new Megaflow?[keys.Length];
        Assert.Equal(0u, classifier.LookupBatch(keys, results));

        // Found in the first-ranked subtable: one subtable lookup per hit.
        Assert.Equal(MegaflowClassifier.MaxBatch, classifier.SubtableLookups);
        Assert.Equal(MegaflowClassifier.MaxBatch, classifier.Subtables[0].Hits);
        Assert.Equal(0, classifier.Subtables[1].Hits);
    }

    [Fact]
    public void A_batch_of_more_than_32_keys_is_rejected()
    {
        var classifier = new MegaflowClassifier();
        var keys = new FlowKey[33];
        var results = new Megaflow?[33];

        Assert.Throws<ArgumentException>(() => classifier.LookupBatch(keys, results));
    }

    [Fact]
    public void Flows_enumerates_every_installed_flow_once()
    {
        var classifier = new MegaflowClassifier();
        var installed = new List<Megaflow>();
        for (uint port = 1; port <= 40; port++)
        {
            installed.Add(InPortFlow(port));
            installed.Add(CtFlow(port, CtState.Established | CtState.Tracked));
        }

        foreach (Megaflow flow in installed)
        {
            classifier.Insert(flow);
        }

        var seen = new HashSet<Megaflow>(ReferenceEqualityComparer.Instance);
        foreach (Megaflow flow in classifier.Flows)
        {
            Assert.True(seen.Add(flow));
        }

        Assert.Equal(installed.Count, seen.Count);
        Assert.All(installed, flow => Assert.Contains(flow, seen));
    }

    [Fact]
    public void Changing_the_classifier_during_enumeration_is_detected()
    {
        var classifier = new MegaflowClassifier();
        classifier.Insert(InPortFlow(1));
        classifier.Insert(InPortFlow(2));

        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (Megaflow flow in classifier.Flows)
            {
                classifier.Remove(flow);
            }
        });
    }

    [Fact]
    public void Lookups_allocate_nothing()
    {
        var classifier = new MegaflowClassifier();
        for (uint port = 1; port <= 8; port++)
        {
            classifier.Insert(InPortFlow(port));
            classifier.Insert(CtFlow(port, CtState.Established | CtState.Tracked));
        }

        var keys = new FlowKey[MegaflowClassifier.MaxBatch];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Packet(inPort: (uint)(i % 12), tpDst: (ushort)i, ct: i % 3 == 0 ? CtState.Established | CtState.Tracked : CtState.None);
        }

        var results = new Megaflow?[keys.Length];
        RunOnce(classifier, keys, results); // warm up the JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunOnce(classifier, keys, results);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
        Assert.Contains(results, r => r is null);
        Assert.Contains(results, r => r is not null);

        static void RunOnce(MegaflowClassifier classifier, FlowKey[] keys, Megaflow?[] results)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                classifier.Lookup(in keys[i]);
            }

            classifier.LookupBatch(keys, results);
            classifier.LookupBatch(keys, results, 0x5555_5555);
            classifier.Optimize();
            foreach (Megaflow flow in classifier.Flows)
            {
                flow.Stats.Add(64, 0, 1);
            }
        }
    }

    /// <summary>in_port=N, recirc_id=0 (what "priority=1 actions=drop" style rules produce).</summary>
    private static Megaflow InPortFlow(uint inPort)
    {
        var key = default(FlowKey);
        key.InPort = inPort;
        var mask = default(FlowKey);
        mask.InPort = uint.MaxValue;
        mask.RecircId = uint.MaxValue;
        return new Megaflow(in key, in mask, ActionList.Empty);
    }

    /// <summary>recirc_id=1, ct_state=STATE, ip, in_port=N (the firewall's table 1 after recirculation).</summary>
    private static Megaflow CtFlow(uint inPort, CtState state)
    {
        var key = default(FlowKey);
        key.InPort = inPort;
        key.RecircId = 1;
        key.CtState = state;
        key.EthType = EtherTypes.Ipv4;
        var mask = default(FlowKey);
        mask.InPort = uint.MaxValue;
        mask.RecircId = uint.MaxValue;
        mask.CtState = (CtState)0xFF;
        mask.EthType = ushort.MaxValue;
        return new Megaflow(in key, in mask, ActionList.Empty);
    }

    private static FlowKey Packet(uint inPort, ushort tpDst, CtState ct = CtState.None)
    {
        var k = default(FlowKey);
        k.InPort = inPort;
        k.RecircId = ct == CtState.None ? 0u : 1u;
        k.CtState = ct;
        k.EthType = EtherTypes.Ipv4;
        k.NwProto = IpProtocols.Tcp;
        k.NwSrc = 0x0A00_0001;
        k.NwDst = 0x0A00_0002;
        k.TpSrc = 40000;
        k.TpDst = tpDst;
        return k;
    }
}
