namespace TestSupport.Waiting;

/// <summary>
/// Waiting for a condition that nothing signals (an HTTP endpoint's counters, a socket that starts
/// answering): it is looked at again every <see cref="Interval"/> until it holds, and the test
/// fails after a generous timeout naming what it waited for. The interval is the pace of the
/// looks, not a guess at how long anything takes; where the code under test signals (a task, an
/// actor's answer, Akka's AwaitCondition on virtual time), tests wait on that instead.
/// </summary>
public static class Eventually
{
    /// <summary>Long enough for a loaded machine: a test that passes never waits for it.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>The first value of <paramref name="look"/> for which <paramref name="holds"/> is true.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>).</exception>
    public static async Task<T> Until<T>(Func<Task<T>> look, Func<T, bool> holds, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(look);
        ArgumentNullException.ThrowIfNull(holds);
        var limit = timeout ?? DefaultTimeout;
        using var expired = new CancellationTokenSource(limit);
        using var pace = new PeriodicTimer(Interval);
        while (true)
        {
            T value = await look().ConfigureAwait(false);
            if (holds(value))
            {
                return value;
            }

            try
            {
                await pace.WaitForNextTickAsync(expired.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{what}: not within {limit.TotalSeconds:F0} s");
            }
        }
    }

    /// <summary>Returns once <paramref name="condition"/> holds.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>.</exception>
    public static Task Until(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Until(() => Task.FromResult(condition()), holds => holds, what, timeout);
}
