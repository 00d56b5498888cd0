using Datapath.Actions;
using Datapath.OpenFlow.Normal;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;

namespace Datapath.Tests.OpenFlow;

public class NormalTests
{
    private const ulong Broadcast = 0xFFFF_FFFF_FFFF;
    private const ulong H3 = 0x02_00_00_00_00_03;

    private static Translator Bridge(ManualClock clock, TimeSpan? aging = null)
    {
        var tables = new OpenFlowTables(clock);
        tables.AddFlows("actions=NORMAL", "normal.flows");
        return new Translator(tables, new RecircRegistry(), [1, 2, 3], new MacLearningTable(aging, clock));
    }

    [Fact]
    public void Unknown_and_broadcast_destinations_flood_to_every_other_port()
    {
        var x = Bridge(new ManualClock());
        Assert.Equal([DatapathAction.Output(1), DatapathAction.Output(3)], x.Translate(Packets.Arp(2, Packets.H2, Broadcast)).Actions.Actions.ToArray());
        Assert.Equal([DatapathAction.Output(2), DatapathAction.Output(3)], x.Translate(Packets.Arp(1, Packets.H1, H3)).Actions.Actions.ToArray());
    }

    [Fact]
    public void Learned_addresses_are_forwarded_to_their_port_only()
    {
        var x = Bridge(new ManualClock());
        x.Translate(Packets.Arp(2, Packets.H2, Broadcast));
        var r = x.Translate(Packets.Arp(1, Packets.H1, Packets.H2));
        Assert.Equal([DatapathAction.Output(2)], r.Actions.Actions.ToArray());
        Assert.True(r.UsedMacLearning);
        Assert.Equal(0xFFFF_FFFF_FFFFUL, r.Mask.EthSrc);
        Assert.Equal(0xFFFF_FFFF_FFFFUL, r.Mask.EthDst);
        Assert.Equal(0x1fff, r.Mask.Vlan0Tci);
    }

    [Fact]
    public void A_moved_address_changes_the_answer_and_the_generation()
    {
        var x = Bridge(new ManualClock());
        x.Translate(Packets.Arp(2, Packets.H2, Broadcast));
        var before = x.Translate(Packets.Arp(1, Packets.H1, Packets.H2));
        long generation = x.Macs.Generation;
        Assert.Equal(generation, before.MacGeneration);

        x.Translate(Packets.Arp(2, Packets.H2, Broadcast));
        Assert.Equal(generation, x.Macs.Generation);

        x.Translate(Packets.Arp(3, Packets.H2, Broadcast));
        Assert.True(x.Macs.Generation > generation);
        var after = x.Translate(Packets.Arp(1, Packets.H1, Packets.H2));
        Assert.Equal([DatapathAction.Output(3)], after.Actions.Actions.ToArray());
    }

    [Fact]
    public void Learning_is_per_vlan()
    {
        var x = Bridge(new ManualClock());
        var tagged = Packets.Arp(2, Packets.H2, Broadcast);
        tagged.Vlan0Tci = 0x1000 | 7;
        x.Translate(tagged);
        Assert.Equal([DatapathAction.Output(2), DatapathAction.Output(3)], x.Translate(Packets.Arp(1, Packets.H1, Packets.H2)).Actions.Actions.ToArray());
    }

    [Fact]
    public void Entries_age_out_after_the_configured_time()
    {
        var clock = new ManualClock();
        var x = Bridge(clock, TimeSpan.FromSeconds(30));
        x.Translate(Packets.Arp(2, Packets.H2, Broadcast));
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal([DatapathAction.Output(2)], x.Translate(Packets.Arp(1, Packets.H1, Packets.H2)).Actions.Actions.ToArray());
        clock.Advance(TimeSpan.FromSeconds(2));
        long generation = x.Macs.Generation;
        Assert.Equal(1, x.Macs.Expire());
        Assert.True(x.Macs.Generation > generation);
        Assert.Equal([DatapathAction.Output(2), DatapathAction.Output(3)], x.Translate(Packets.Arp(1, Packets.H1, Packets.H2)).Actions.Actions.ToArray());
    }

    [Fact]
    public void A_destination_learned_on_the_input_port_is_dropped()
    {
        var x = Bridge(new ManualClock());
        x.Translate(Packets.Arp(1, Packets.H2, Broadcast));
        Assert.Equal(0, x.Translate(Packets.Arp(1, Packets.H1, Packets.H2)).Actions.Count);
    }
}
