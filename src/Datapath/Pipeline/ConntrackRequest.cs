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
    private readonly List<Packet>[] _packets = new List<Packet>[PacketBatch.MaxSize];
    private readonly bool[] _answered = new bool[PacketBatch.MaxSize];
    private readonly ActionList[] _actions = new ActionList[PacketBatch.MaxSize];
    private readonly int[] _resumeAt = new int[PacketBatch.MaxSize];
    private readonly long[] _sequence = new long[PacketBatch.MaxSize];

    internal ConntrackRequest()
    {
        for (int i = 0; i < _packets.Length; i++)
        {
            _packets[i] = new List<Packet>(1);
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
    /// Adds an input whose packets continue with <paramref name="actions"/> from <paramref name="resumeAt"/>,
    /// in the order of <paramref name="sequence"/> (when its packet entered its pass): flows run one
    /// after another, but conntrack must see the packets as they arrived. The packets are added to
    /// the returned list.
    /// </summary>
    internal List<Packet> Add(in ConntrackInput input, ActionList actions, int resumeAt, long sequence)
    {
        int at = Count;
        var packets = _packets[Count];
        while (at > 0 && _sequence[at - 1] > sequence)
        {
            // Shift the later input up by one; its packet list object moves with it.
            _inputs[at] = _inputs[at - 1];
            _answered[at] = _answered[at - 1];
            _actions[at] = _actions[at - 1];
            _resumeAt[at] = _resumeAt[at - 1];
            _sequence[at] = _sequence[at - 1];
            _packets[at] = _packets[at - 1];
            at--;
        }

        _packets[at] = packets;
        _inputs[at] = input;
        _answered[at] = false;
        _actions[at] = actions;
        _resumeAt[at] = resumeAt;
        _sequence[at] = sequence;
        packets.Clear();
        Count++;
        Unanswered++;
        return packets;
    }

    internal List<Packet> PacketsOf(int index) => _packets[index];

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
