using Actors.Ports;

namespace Actors.Tests.Ports;

/// <summary>The traffic and drain state machine every port runs, without an actor system.</summary>
public sealed class PortLifecycleTests
{
    [Fact]
    public void A_drain_of_an_endless_running_source_stops_it_at_once_and_quiesces_once()
    {
        var lifecycle = new PortLifecycle(finite: false);
        Assert.True(lifecycle.Start());

        Assert.True(lifecycle.RequestDrain());

        Assert.Equal(TrafficPhase.Stopped, lifecycle.Phase);
        Assert.True(lifecycle.TryBeginQuiesce(sourceStill: true));
        Assert.False(lifecycle.TryBeginQuiesce(sourceStill: true));
        Assert.True(lifecycle.Quiescing);
    }

    [Fact]
    public void A_drain_of_a_finite_running_source_waits_for_its_end()
    {
        var lifecycle = new PortLifecycle(finite: true);
        lifecycle.Start();

        Assert.False(lifecycle.RequestDrain());

        Assert.True(lifecycle.Running);
        Assert.False(lifecycle.TryBeginQuiesce(sourceStill: true));
        Assert.True(lifecycle.End());
        Assert.True(lifecycle.TryBeginQuiesce(sourceStill: true));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_stopped_source_drains_at_once_finite_or_not(bool finite)
    {
        var lifecycle = new PortLifecycle(finite);
        lifecycle.Start();
        lifecycle.Stop();

        Assert.False(lifecycle.RequestDrain());

        Assert.True(lifecycle.TryBeginQuiesce(sourceStill: true));
    }

    [Fact]
    public void The_port_type_holds_the_quiesce_back_until_its_own_work_is_still()
    {
        var lifecycle = new PortLifecycle(finite: false);
        lifecycle.RequestDrain();

        Assert.False(lifecycle.TryBeginQuiesce(sourceStill: false));
        Assert.False(lifecycle.Quiescing);
        Assert.True(lifecycle.TryBeginQuiesce(sourceStill: true));
    }

    [Fact]
    public void No_quiesce_without_a_drain_and_none_after_it_was_answered()
    {
        var lifecycle = new PortLifecycle(finite: false);
        Assert.False(lifecycle.TryBeginQuiesce(sourceStill: true));
        lifecycle.RequestDrain();
        lifecycle.TryBeginQuiesce(sourceStill: true);

        lifecycle.Drained();

        Assert.False(lifecycle.Draining);
        Assert.False(lifecycle.TryBeginQuiesce(sourceStill: true));
    }

    [Fact]
    public void A_source_does_not_start_while_a_drain_is_in_progress_and_may_start_again_once_drained()
    {
        var lifecycle = new PortLifecycle(finite: false);
        lifecycle.Start();
        lifecycle.RequestDrain();

        Assert.False(lifecycle.Start());
        Assert.Equal(TrafficPhase.Stopped, lifecycle.Phase);

        lifecycle.TryBeginQuiesce(sourceStill: true);
        lifecycle.Drained();
        Assert.True(lifecycle.Start());
    }

    [Fact]
    public void An_ended_source_never_runs_again_but_still_drains()
    {
        var lifecycle = new PortLifecycle(finite: true);
        lifecycle.Start();
        lifecycle.End();

        Assert.False(lifecycle.Start());
        Assert.False(lifecycle.End());
        lifecycle.RequestDrain();
        Assert.True(lifecycle.TryBeginQuiesce(sourceStill: true));
    }

    [Fact]
    public void A_failed_source_neither_starts_nor_drains_and_keeps_its_reason()
    {
        var lifecycle = new PortLifecycle(finite: true);
        lifecycle.Start();
        lifecycle.RequestDrain();

        lifecycle.Fail("rx pcap x.pcap: gone");

        Assert.Equal(TrafficPhase.Failed, lifecycle.Phase);
        Assert.Equal("rx pcap x.pcap: gone", lifecycle.Failure);
        Assert.False(lifecycle.Draining);
        Assert.False(lifecycle.Start());
        Assert.False(lifecycle.RequestDrain());
        Assert.False(lifecycle.TryBeginQuiesce(sourceStill: true));
        Assert.False(lifecycle.End());
    }

    [Fact]
    public void Stop_and_start_report_whether_anything_changed()
    {
        var lifecycle = new PortLifecycle(finite: false);

        Assert.False(lifecycle.Stop());
        Assert.True(lifecycle.Start());
        Assert.False(lifecycle.Start());
        Assert.True(lifecycle.Stop());
        Assert.Equal(TrafficPhase.Stopped, lifecycle.Phase);
    }
}
