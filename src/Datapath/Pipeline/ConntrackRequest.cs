using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// One ct action's worth of packets waiting for conntrack: the inputs the stage sends, and for
/// each input the packets that continue with its answer (one packet, or every fragment of a
/// reassembled datagram). Owned and recycled by <see cref="PmdCore"/>; a stage reads
/// <see cref="Inputs"/> and keeps <see cref="Id"/> to answer, nothing else.
/// </summary>
public sealed class ConntrackRequest
{
    private readonly ConntrackInput[] _inputs = new ConntrackInput[PacketBatch.MaxSize];
    private readonly List<Packet>[] _packets = new List<Packet>[PacketBatch.MaxSize];
    private readonly bool[] _answered = new bool[PacketBatch.MaxSize];

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

    internal ActionList Actions { get; private set; } = ActionList.Empty;

    internal int ResumeAt { get; private set; }

    internal int Unanswered { get; private set; }

    internal bool IsFull => Count == PacketBatch.MaxSize;

    internal void Start(long id, in ConntrackArgs args, long nowMs, ActionList actions, int resumeAt)
    {
        Id = id;
        Args = args;
        NowMs = nowMs;
        Actions = actions;
        ResumeAt = resumeAt;
        Count = 0;
        Unanswered = 0;
    }

    /// <summary>Adds an input; the packets that continue with its answer are added to <see cref="PacketsOf"/>.</summary>
    internal List<Packet> Add(in ConntrackInput input)
    {
        _inputs[Count] = input;
        _answered[Count] = false;
        var packets = _packets[Count];
        packets.Clear();
        Count++;
        Unanswered++;
        return packets;
    }

    internal List<Packet> PacketsOf(int index) => _packets[index];

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
