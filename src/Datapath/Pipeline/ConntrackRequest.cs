using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// Packets waiting for conntrack with the same ct arguments, gathered over every flow of a batch
/// (so one batch costs one request per ct argument set, not one per flow: bypass flows are one
/// per connection direction): the inputs the stage sends, and for each input the packets that
/// continue with its answer (one packet, or every fragment of a reassembled datagram) and where
/// they continue (their flow's actions after the ct). Owned and recycled by <see cref="PmdCore"/>;
/// a stage reads <see cref="Inputs"/> and keeps <see cref="Id"/> to answer, nothing else.
/// </summary>
public sealed class ConntrackRequest
{
    private readonly ConntrackInput[] _inputs = new ConntrackInput[PacketBatch.MaxSize];

    // An input's packet, or (slot null) for a reassembled datagram its fragments: one packet is the
    // rule, so it is kept in a plain slot (a list per input cost a clear and an add per packet).
    private readonly Packet?[] _packet = new Packet?[PacketBatch.MaxSize];
    private readonly List<Packet>[] _fragments = new List<Packet>[PacketBatch.MaxSize];
    private readonly bool[] _answered = new bool[PacketBatch.MaxSize];
    private readonly ActionList[] _actions = new ActionList[PacketBatch.MaxSize];
    private readonly int[] _resumeAt = new int[PacketBatch.MaxSize];
    private readonly long[] _sequence = new long[PacketBatch.MaxSize];

    internal ConntrackRequest()
    {
        for (int i = 0; i < _fragments.Length; i++)
        {
            _fragments[i] = [];
        }
    }

    /// <summary>Unique per PMD while outstanding; the stage echoes it back.</summary>
    public long Id { get; private set; }

    public ConntrackArgs Args { get; private set; }

    /// <summary>The PMD's clock when the ct action ran.</summary>
    public long NowMs { get; private set; }

    public int Count { get; private set; }

    public ReadOnlySpan<ConntrackInput> Inputs => _inputs.AsSpan(0, Count);

    internal int Unanswered { get; private set; }

    internal bool IsFull => Count == PacketBatch.MaxSize;

    internal void Start(long id, in ConntrackArgs args, long nowMs)
    {
        Id = id;
        Args = args;
        NowMs = nowMs;
        Count = 0;
        Unanswered = 0;
    }

    /// <summary>
    /// Where the next input is parsed (in place: no copy of the input); <see cref="Add"/> or
    /// <see cref="AddDatagram"/> then adds it. Valid while the request is not full.
    /// </summary>
    internal ref ConntrackInput NextInput => ref _inputs[Count];

    /// <summary>
    /// Adds the input parsed into <see cref="NextInput"/>, whose packet continues with
    /// <paramref name="actions"/> from <paramref name="resumeAt"/>, in the order of
    /// <paramref name="sequence"/> (when its packet entered its pass): flows run one after another,
    /// but conntrack must see the packets as they arrived.
    /// </summary>
    internal void Add(ActionList actions, int resumeAt, long sequence, Packet packet)
    {
        int at = Commit(actions, resumeAt, sequence);
        _packet[at] = packet;
    }

    /// <summary><see cref="Add"/> for a reassembled datagram: every fragment continues with the input's answer.</summary>
    internal void AddDatagram(ActionList actions, int resumeAt, long sequence, IReadOnlyList<Packet> fragments)
    {
        int at = Commit(actions, resumeAt, sequence);
        _packet[at] = null;
        var list = _fragments[at];
        list.Clear();
        for (int i = 0; i < fragments.Count; i++)
        {
            list.Add(fragments[i]);
        }
    }

    private int Commit(ActionList actions, int resumeAt, long sequence)
    {
        int at = Count;
        if (at > 0 && _sequence[at - 1] > sequence)
        {
            at = MoveNextBefore(sequence);
        }

        _answered[at] = false;
        _actions[at] = actions;
        _resumeAt[at] = resumeAt;
        _sequence[at] = sequence;
        Count++;
        Unanswered++;
        return at;
    }

    /// <summary>Moves the next input down before the inputs that arrived after it; returns its place.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int MoveNextBefore(long sequence)
    {
        int at = Count;
        var input = _inputs[at];
        var fragments = _fragments[at];
        while (at > 0 && _sequence[at - 1] > sequence)
        {
            // Shift the later input up by one; its packet slot and fragment list move with it.
            _inputs[at] = _inputs[at - 1];
            _answered[at] = _answered[at - 1];
            _actions[at] = _actions[at - 1];
            _resumeAt[at] = _resumeAt[at - 1];
            _sequence[at] = _sequence[at - 1];
            _packet[at] = _packet[at - 1];
            _fragments[at] = _fragments[at - 1];
            at--;
        }

        _inputs[at] = input;
        _fragments[at] = fragments;
        return at;
    }

    /// <summary>The packets that continue with input <paramref name="index"/>'s answer (valid until the request is recycled).</summary>
    internal ReadOnlySpan<Packet> PacketsOf(int index) =>
        _packet[index] is null
            ? CollectionsMarshal.AsSpan(_fragments[index])
            : MemoryMarshal.CreateReadOnlySpan(ref _packet[index]!, 1);

    internal ActionList ActionsOf(int index) => _actions[index];

    internal int ResumeAtOf(int index) => _resumeAt[index];

    /// <summary>Drops the references to action lists once every input is answered (the request is recycled).</summary>
    internal void ForgetActions() => Array.Clear(_actions, 0, Count);

    internal bool IsAnswered(int index) => _answered[index];

    /// <summary>Marks an input answered; false when it was answered already or is out of range.</summary>
    internal bool Answer(int index)
    {
        if ((uint)index >= (uint)Count || _answered[index])
        {
            return false;
        }

        _answered[index] = true;
        Unanswered--;
        return true;
    }
}
