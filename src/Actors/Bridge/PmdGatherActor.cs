using Akka.Actor;

namespace Actors.Bridge;

/// <summary>What a <see cref="PmdGatherActor{T}"/> collected, for request <paramref name="RequestId"/> of its parent.</summary>
internal sealed record PmdAnswersGathered<T>(long RequestId, IReadOnlyList<T> Answers, int Missing) : INoSerializationVerificationNeeded;

/// <summary>
/// A short-lived child of the bridge that collects one answer of type <typeparamref name="T"/>
/// from each of <c>expected</c> PMDs (the bridge sends the questions with this actor as sender,
/// so they stay ordered after the bridge's earlier snapshots), then tells the parent what it got
/// and stops: when all have answered, or at the timeout with what it has. The bridge never waits.
/// </summary>
internal sealed class PmdGatherActor<T> : ReceiveActor, IWithTimers
{
    private readonly long _requestId;
    private readonly int _expected;
    private readonly TimeSpan _timeout;
    private readonly List<T> _answers = [];

    public PmdGatherActor(long requestId, int expected, TimeSpan timeout)
    {
        _requestId = requestId;
        _expected = expected;
        _timeout = timeout;
        Receive<T>(answer =>
        {
            _answers.Add(answer);
            if (_answers.Count == _expected)
            {
                Finish();
            }
        });
        Receive<TimedOut>(_ => Finish());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(long requestId, int expected, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new PmdGatherActor<T>(requestId, expected, timeout));

    protected override void PreStart()
    {
        if (_expected == 0)
        {
            Finish();
            return;
        }

        Timers.StartSingleTimer(nameof(TimedOut), TimedOut.Instance, _timeout);
    }

    private void Finish()
    {
        Context.Parent.Tell(new PmdAnswersGathered<T>(_requestId, _answers.ToArray(), _expected - _answers.Count));
        Context.Stop(Self);
    }

    private sealed class TimedOut
    {
        public static TimedOut Instance { get; } = new();
    }
}
