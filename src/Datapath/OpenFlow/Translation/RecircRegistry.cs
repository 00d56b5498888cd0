using Datapath.Actions;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// Recirculation ids and the continuations they name (the analogue of Open vSwitch's
/// ofproto-dpif-rid.c). Equal continuations share one id. Every translation that emits recirc(id)
/// takes one reference for it; whoever keeps the resulting actions (a megaflow) releases it when
/// the actions die (<see cref="ReleaseAll"/>). An id whose count drops to zero is freed and
/// reused only after every other free id, so a late packet carrying a just-freed id most likely
/// finds it unknown rather than reused. Id 0 is never allocated (it means "not recirculated").
/// One owner; not thread-safe.
/// </summary>
public sealed class RecircRegistry
{
    private readonly Dictionary<Continuation, uint> _ids = [];
    private readonly Dictionary<uint, (Continuation State, int References)> _entries = [];
    private readonly Queue<uint> _free = new();
    private uint _next = 1;

    /// <summary>Ids currently allocated.</summary>
    public int Count => _entries.Count;

    /// <summary>Returns the id for <paramref name="state"/>, allocating it if needed, and takes one reference.</summary>
    public uint Acquire(in Continuation state)
    {
        if (_ids.TryGetValue(state, out uint id))
        {
            var e = _entries[id];
            _entries[id] = (e.State, e.References + 1);
            return id;
        }

        id = _free.Count > 0 ? _free.Dequeue() : _next++;
        _ids.Add(state, id);
        _entries.Add(id, (state, 1));
        return id;
    }

    /// <summary>The continuation of <paramref name="id"/>, if it is allocated.</summary>
    public bool TryGet(uint id, out Continuation state)
    {
        if (_entries.TryGetValue(id, out var e))
        {
            state = e.State;
            return true;
        }

        state = default;
        return false;
    }

    /// <summary>References held on <paramref name="id"/> (0 when free).</summary>
    public int References(uint id) => _entries.TryGetValue(id, out var e) ? e.References : 0;

    /// <summary>Drops one reference; frees the id at zero.</summary>
    public void Release(uint id)
    {
        if (!_entries.TryGetValue(id, out var e))
        {
            throw new InvalidOperationException($"recirculation id {id:x} is not allocated");
        }

        if (e.References > 1)
        {
            _entries[id] = (e.State, e.References - 1);
            return;
        }

        _entries.Remove(id);
        _ids.Remove(e.State);
        _free.Enqueue(id);
    }

    /// <summary>Releases the reference of every recirc(id) in <paramref name="actions"/> (a dying megaflow's actions).</summary>
    public void ReleaseAll(ActionList actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        foreach (ref readonly var action in actions.Actions)
        {
            if (action.Kind == ActionKind.Recirculate)
            {
                Release(action.RecircId);
            }
        }
    }
}
