using Akka.Actor;

namespace Actors.Bridge;

/// <summary>The actor system scheduler's clock as a <see cref="TimeProvider"/> (virtual under the TestKit's scheduler).</summary>
internal sealed class SchedulerTimeProvider(IScheduler scheduler) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => scheduler.Now;
}
