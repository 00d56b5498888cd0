using Datapath.OpenFlow.Wire;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// What a controller action sends with the packet: the reason, how much of the packet, the table
/// and rule it ran in, and the translation-only fields at that point (registers, metadata), which
/// the packet itself does not carry. The datapath's userspace action names one by number.
/// </summary>
public sealed class ControllerUserdata : IEquatable<ControllerUserdata>
{
    private readonly uint[] _regs;

    public ControllerUserdata(PacketInReason reason, ushort maxLength, ushort controllerId, byte table, ulong cookie, in OfRegisters regs, ulong metadata, bool tableMiss = false)
    {
        TableMiss = tableMiss;
        Reason = reason;
        MaxLength = maxLength;
        ControllerId = controllerId;
        Table = table;
        Cookie = cookie;
        Metadata = metadata;
        _regs = new uint[OfRegisters.Count];
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            _regs[i] = regs[i];
        }
    }

    public PacketInReason Reason { get; }

    /// <summary>A table miss, not a controller action: only OpenFlow 1.0-1.2 controllers get these.</summary>
    public bool TableMiss { get; }

    public ushort MaxLength { get; }

    public ushort ControllerId { get; }

    public byte Table { get; }

    public ulong Cookie { get; }

    public ulong Metadata { get; }

    public IReadOnlyList<uint> Registers => _regs;

    public bool Equals(ControllerUserdata? other) =>
        other is not null && Reason == other.Reason && MaxLength == other.MaxLength && ControllerId == other.ControllerId
        && Table == other.Table && Cookie == other.Cookie && Metadata == other.Metadata && TableMiss == other.TableMiss && _regs.AsSpan().SequenceEqual(other._regs);

    public override bool Equals(object? obj) => Equals(obj as ControllerUserdata);

    public override int GetHashCode() => HashCode.Combine(Reason, MaxLength, ControllerId, Table, Cookie, Metadata, _regs[0], _regs[1]);
}

/// <summary>
/// Numbers the distinct <see cref="ControllerUserdata"/> a bridge's translations produced, so that a
/// datapath userspace action carries one number (as Open vSwitch's userspace action carries its
/// cookie). The same userdata always gets the same number; one owner (the translator's).
/// </summary>
public sealed class ControllerRegistry
{
    /// <summary>More distinct controller actions than any table makes; beyond it translation refuses (an error drop).</summary>
    public const int Capacity = 1 << 16;

    private readonly Dictionary<ControllerUserdata, uint> _numbers = [];
    private readonly List<ControllerUserdata> _byNumber = [];

    public int Count => _byNumber.Count;

    /// <summary>The number of <paramref name="userdata"/>, allocated at first sight; null when the registry is full.</summary>
    public uint? Intern(ControllerUserdata userdata)
    {
        ArgumentNullException.ThrowIfNull(userdata);
        if (_numbers.TryGetValue(userdata, out uint number))
        {
            return number;
        }

        if (_byNumber.Count >= Capacity)
        {
            return null;
        }

        number = (uint)_byNumber.Count;
        _numbers.Add(userdata, number);
        _byNumber.Add(userdata);
        return number;
    }

    public bool TryGet(uint number, out ControllerUserdata userdata)
    {
        if (number < _byNumber.Count)
        {
            userdata = _byNumber[(int)number];
            return true;
        }

        userdata = null!;
        return false;
    }
}
