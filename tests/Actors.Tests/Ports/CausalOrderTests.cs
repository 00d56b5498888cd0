using Actors.Ports;

namespace Actors.Tests.Ports;

/// <summary>The pcap port's causal barrier, without an actor system.</summary>
public sealed class CausalOrderTests
{
    [Fact]
    public void Frames_of_one_port_flow_and_the_first_frame_of_the_other_waits_for_the_pmds_they_went_to()
    {
        var order = new CausalOrder(pmds: 3, enabled: true);

        Assert.False(order.MustWait(1));
        order.Sent(0, 1);
        order.Sent(2, 1);
        Assert.False(order.MustWait(1));

        Assert.True(order.MustWait(2));
        Assert.Equal([true, false, true], order.PmdsToQuiesce);
    }

    [Fact]
    public void Once_cleared_any_port_may_go_and_no_pmd_is_owed_a_barrier()
    {
        var order = new CausalOrder(pmds: 2, enabled: true);
        order.Sent(1, 2);

        order.Cleared();

        Assert.False(order.MustWait(1));
        Assert.Equal([false, false], order.PmdsToQuiesce);
        order.Sent(0, 1);
        Assert.True(order.MustWait(2));
    }

    [Fact]
    public void Pipelined_ordering_never_waits()
    {
        var order = new CausalOrder(pmds: 1, enabled: false);
        order.Sent(0, 1);

        Assert.False(order.MustWait(2));
    }
}
