using Akka.TestKit;

namespace Actors.Tests.Support;

/// <summary>Waits on the TestKit's virtual-time scheduler.</summary>
public static class VirtualTime
{
    /// <summary>
    /// Moves the clock on by <paramref name="step"/> until the test actor has a message. For a
    /// timer the test cannot see start (an actor starts it in PreStart, some time after ActorOf
    /// returns): each step fires it at most once, and a step taken before it started is not lost.
    /// </summary>
    public static void AdvanceUntilMessage(this TestKitBase kit, TimeSpan step)
    {
        ArgumentNullException.ThrowIfNull(kit);
        var scheduler = (TestScheduler)kit.Sys.Scheduler;
        kit.AwaitAssert(() =>
        {
            scheduler.Advance(step);
            Assert.True(kit.HasMessages);
        });
    }
}
