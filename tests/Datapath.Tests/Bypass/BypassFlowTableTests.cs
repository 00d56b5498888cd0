using Datapath.Actions;
using Datapath.Bypass;
using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;

namespace Datapath.Tests.Bypass;

/// <summary>
/// The per-PMD table of per-connection bypass flows: lookup by exact key, removal by connection (both
/// directions), backward-shift deletion under heavy home-slot collisions, and its capacity limit.
/// </summary>
public sealed class BypassFlowTableTests
{
    private static readonly Megaflow Original = new(default, default, new ActionList([DatapathAction.Output(9)]));
    private static readonly Megaflow Recirculated = new(default, default, new ActionList([DatapathAction.Output(2)]));

    [Fact]
    public void An_added_bypass_flow_is_found_by_its_key_and_hash_and_no_other_key_finds_it()
    {
        var table = new BypassFlowTable(16);
        var flow = BypassFlow(1, keyHash: 77, Connection(1));

        Assert.True(table.TryAdd(flow));

        Assert.Same(flow, table.Lookup(in flow.Key, 77));
        var other = Key(2);
        Assert.Null(table.Lookup(in other, 77));
        Assert.Null(table.Lookup(in flow.Key, 78));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_second_live_flow_for_the_same_key_is_refused_and_a_stale_one_is_replaced()
    {
        var table = new BypassFlowTable(16);
        var original = new Megaflow(default, default, new ActionList([DatapathAction.Output(9)]));
        var first = BypassFlow(1, 5, Connection(1), original);
        Assert.True(table.TryAdd(first));

        Assert.False(table.TryAdd(BypassFlow(1, 5, Connection(1))));
        Assert.Same(first, table.Lookup(in first.Key, 5));

        original.MarkDead();
        Assert.Null(table.Lookup(in first.Key, 5));
        var second = BypassFlow(1, 5, Connection(1));
        Assert.True(table.TryAdd(second));
        Assert.Same(second, table.Lookup(in second.Key, 5));
        Assert.Equal(1, table.Count);
        Assert.True(first.IsDead);
    }

    [Fact]
    public void Removing_a_connection_takes_both_of_its_directions_and_leaves_other_connections_with_the_same_hash()
    {
        var table = new BypassFlowTable(16);
        var connection = Connection(1);
        var forward = BypassFlow(1, 10, connection, connectionHash: 42);
        var reply = BypassFlow(2, 11, connection.Reverse(), connectionHash: 42);
        var neighbour = BypassFlow(3, 12, Connection(2), connectionHash: 42);
        Assert.True(table.TryAdd(forward));
        Assert.True(table.TryAdd(reply));
        Assert.True(table.TryAdd(neighbour));

        Assert.Equal(2, table.RemoveConnection(in connection, 42));

        Assert.Null(table.Lookup(in forward.Key, 10));
        Assert.Null(table.Lookup(in reply.Key, 11));
        Assert.Same(neighbour, table.Lookup(in neighbour.Key, 12));
        Assert.True(forward.IsDead && reply.IsDead);
        Assert.False(neighbour.IsDead);
        Assert.Equal(1, table.Count);
        Assert.Equal(0, table.RemoveConnection(in connection, 42));
    }

    [Theory]
    [InlineData(5u)]
    [InlineData(1022u)]
    public void Deleting_from_long_probe_runs_of_colliding_homes_keeps_every_other_entry_findable(uint home)
    {
        // 300 keys whose hashes share their low bits: one probe run (wrapping past the last slot for a home near the end).
        var table = new BypassFlowTable(1000);
        var flows = Enumerable.Range(0, 300).Select(i => BypassFlow(i, ((uint)i << 16) | home, Connection(i), connectionHash: (uint)i)).ToList();
        var interleaved = Enumerable.Range(0, 100).Select(i => BypassFlow(1000 + i, (uint)(i * 7) & 1023, Connection(1000 + i), connectionHash: (uint)(1000 + i))).ToList();
        foreach (var flow in flows.Concat(interleaved))
        {
            Assert.True(table.TryAdd(flow));
        }

        var random = new Random(7);
        var removed = flows.Concat(interleaved).Where(_ => random.Next(3) == 0).ToList();
        foreach (var flow in removed)
        {
            Assert.True(table.Remove(flow));
        }

        foreach (var flow in flows.Concat(interleaved))
        {
            var found = table.Lookup(in flow.Key, BypassFlowOrigin.Of(flow).KeyHash);
            Assert.Same(removed.Contains(flow) ? null : flow, found);
        }

        Assert.Equal(400 - removed.Count, table.Count);
        Assert.False(table.Remove(removed[0]));
    }

    [Fact]
    public void Colliding_entries_stay_findable_after_the_table_grows()
    {
        var table = new BypassFlowTable(5000);
        var flows = Enumerable.Range(0, 1500).Select(i => BypassFlow(i, ((uint)i << 16) | 3, Connection(i), connectionHash: (uint)i)).ToList();
        foreach (var flow in flows)
        {
            Assert.True(table.TryAdd(flow));
        }

        foreach (var flow in flows.Where((_, i) => i % 2 == 0))
        {
            Assert.True(table.Remove(flow));
        }

        Assert.All(flows.Where((_, i) => i % 2 == 1), flow => Assert.Same(flow, table.Lookup(in flow.Key, BypassFlowOrigin.Of(flow).KeyHash)));
        Assert.All(flows.Where((_, i) => i % 2 == 0), flow => Assert.Null(table.Lookup(in flow.Key, BypassFlowOrigin.Of(flow).KeyHash)));
        Assert.Equal(750, table.Count);
    }

    [Fact]
    public void A_full_table_refuses_installs_and_counts_them_until_an_entry_goes()
    {
        var table = new BypassFlowTable(3);
        var flows = Enumerable.Range(0, 3).Select(i => BypassFlow(i, (uint)i, Connection(i), connectionHash: (uint)i)).ToList();
        foreach (var flow in flows)
        {
            Assert.True(table.TryAdd(flow));
        }

        var extra = BypassFlow(9, 9, Connection(9), connectionHash: 9);
        Assert.False(table.TryAdd(extra));
        Assert.False(table.TryAdd(extra));
        Assert.Equal(2, table.Refused);
        Assert.Null(table.Lookup(in extra.Key, 9));

        Assert.True(table.Remove(flows[1]));
        Assert.True(table.TryAdd(extra));
        Assert.Same(extra, table.Lookup(in extra.Key, 9));
        Assert.Equal(3, table.Count);
        Assert.Equal(2, table.Refused);
    }

    [Fact]
    public void Removing_stale_flows_takes_those_built_from_a_dead_megaflow_and_only_those()
    {
        var table = new BypassFlowTable(16);
        var dying = new Megaflow(default, default, new ActionList([DatapathAction.Output(9)]));
        var stale = BypassFlow(1, 1, Connection(1), dying);
        var live = BypassFlow(2, 2, Connection(2));
        table.TryAdd(stale);
        table.TryAdd(live);

        dying.MarkDead();

        Assert.Equal(1, table.RemoveStale());
        Assert.Null(table.Lookup(in stale.Key, 1));
        Assert.Same(live, table.Lookup(in live.Key, 2));
        Assert.Equal(1, table.Count);
    }

    private static FlowKey Key(int i)
    {
        var key = default(FlowKey);
        key.NwSrc = (uint)i;
        key.TpSrc = (ushort)(i * 3);
        return key;
    }

    private static ConntrackKey Connection(int i) => new()
    {
        Src = 0x0a00_0001,
        Dst = 0x0a00_0002,
        SrcPort = (ushort)(10_000 + i),
        DstPort = 80,
        Protocol = 6,
    };

    private static Megaflow BypassFlow(int i, uint keyHash, ConntrackKey connection, Megaflow? original = null, uint connectionHash = 1)
    {
        var key = Key(i);
        return new Megaflow(in key, FlowKey.AllOnes, new ActionList([DatapathAction.Output(2)]))
        {
            BypassOriginal = original ?? Original,
            BypassRecirculated = Recirculated,
            Origin = new BypassFlowOrigin(in connection, connectionHash, keyHash),
        };
    }
}
