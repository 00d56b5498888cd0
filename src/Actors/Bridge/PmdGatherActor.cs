using Akka.Actor;

namespace Actors.Bridge;

/// <summary>What a <see cref="PmdGatherActor{T}"/> collected, for request <paramref name="RequestId"/> of its parent.</summary>
internal sealed record PmdAnswersGathered<T>(long RequestId, IReadOnlyList<T> Answers, int Missing) : INoSerializationVerificationNeeded;

/// <summary>
/// A short-lived child of the bridge that collects one answer of type <typeparamref name="T"/>
/// from each actor in <c>asked</c> (the bridge sends the questions with this actor as sender,
/// so they stay ordered after the bridge's earlier snapshots), then tells the parent what it got
/// and stops: when each has answered or stopped, or at the timeout with what it has. The bridge
/// never waits.
/// </summary>
/// <remarks>
/// It watches whom it asked because the bridge may ask a PMD or port that has already stopped:
/// the bridge learns of a stop by its own Terminated, which can come after a question it sent.
/// An actor that stops unanswered counts as missing at once, rather than holding the answer
/// (an <c>ovs-appctl</c> command) for the whole timeout.
/// </remarks>
internal sealed class PmdGatherActor<T> : ReceiveActor, IWithTimers
{
    private readonly long _requestId;
    private readonly HashSet<IActorRef> _asked;
    private readonly TimeSpan _timeout;
    private readonly List<T> _answers = [];
    private readonly HashSet<IActorRef> _settled = [];

    public PmdGatherActor(long requestId, IReadOnlyCollection<IActorRef> asked, TimeSpan timeout)
    {
        _requestId = requestId;
        _asked = [.. asked];
        _timeout = timeout;
        Receive<T>(answer =>
        {
            if (Settle(Sender))
            {
                _answers.Add(answer);
                FinishIfComplete();
            }
        });
        Receive<Terminated>(stopped =>
        {
            if (Settle(stopped.ActorRef))
            {
                FinishIfComplete();
            }
        });
        Receive<TimedOut>(_ => Finish());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(long requestId, IReadOnlyCollection<IActorRef> asked, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new PmdGatherActor<T>(requestId, asked, timeout));

    protected override void PreStart()
    {
        if (_asked.Count == 0)
        {
            Finish();
            return;
        }

        foreach (var actor in _asked)
        {
            Context.Watch(actor);
        }

        Timers.StartSingleTimer(nameof(TimedOut), TimedOut.Instance, _timeout);
    }

    /// <summary>
    /// Whether this is the first word from <paramref name="actor"/>, an answer or its stop; later
    /// ones are ignored. An answer from an actor that was not asked (a reply sent on a PMD's
    /// behalf) is taken as it comes.
    /// </summary>
    private bool Settle(IActorRef actor)
    {
        if (!_asked.Contains(actor))
        {
            return true;
        }

        if (!_settled.Add(actor))
        {
            return false;
        }

        Context.Unwatch(actor);
        return true;
    }

    private void FinishIfComplete()
    {
        if (_answers.Count >= _asked.Count || _settled.Count == _asked.Count)
        {
            Finish();
        }
    }

    private void Finish()
    {
        Context.Parent.Tell(new PmdAnswersGathered<T>(_requestId, _answers.ToArray(), _asked.Count - _answers.Count));
        Context.Stop(Self);
    }

    private sealed class TimedOut
    {
        public static TimedOut Instance { get; } = new();
    }
}
