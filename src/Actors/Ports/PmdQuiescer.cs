using Actors.PacketPath;
using Akka.Actor;

namespace Actors.Ports;

/// <summary>
/// Waits until some PMDs have finished everything a port sent them: one <see cref="Quiesce"/> per
/// PMD with a fresh token, done when each has answered <see cref="Quiesced"/>. A PMD answers after
/// the batches it got before the request (mailbox order) and their conntrack and recirculation work,
/// and after flushing its transmissions, so by then the port has also received what they produced.
/// </summary>
/// <param name="tokenBase">Where this quiescer's tokens start, so two quiescers of one owner never take each other's answers.</param>
internal sealed class PmdQuiescer(IReadOnlyList<IActorRef> pmds, IActorRef owner, long tokenBase = 0)
{
    private readonly bool[] _waiting = new bool[pmds.Count];
    private long _token = tokenBase;
    private int _remaining;

    /// <summary>A request is out and not fully answered.</summary>
    public bool Active => _remaining > 0;

    /// <summary>Asks the PMDs whose flag is set (all when <paramref name="which"/> is null); false when none was asked.</summary>
    public bool Start(IReadOnlyList<bool>? which = null)
    {
        _token++;
        _remaining = 0;
        for (int i = 0; i < _waiting.Length; i++)
        {
            _waiting[i] = which is null || which[i];
            if (_waiting[i])
            {
                _remaining++;
                pmds[i].Tell(new Quiesce(_token), owner);
            }
        }

        return _remaining > 0;
    }

    /// <summary>Takes an answer; true when it was the last one awaited. Stale answers are ignored.</summary>
    public bool Answered(Quiesced message)
    {
        if (message.Token != _token || (uint)message.Pmd >= (uint)_waiting.Length || !_waiting[message.Pmd])
        {
            return false;
        }

        _waiting[message.Pmd] = false;
        return --_remaining == 0;
    }
}
