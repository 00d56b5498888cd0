namespace Datapath.OpenFlow.Translation;

/// <summary>
/// The frozen state a recirculated packet resumes from (the analogue of Open vSwitch's struct
/// frozen_state): the table to resume in and the translation-only fields, registers and
/// metadata. Everything else travels in the packet and its metadata (in_port, ct_*).
/// As in Open vSwitch's ct(table=N), the actions after ct in the original pass run in that pass,
/// so the continuation holds no leftover actions.
/// </summary>
public readonly struct Continuation : IEquatable<Continuation>
{
    private readonly OfRegisters _regs;

    public Continuation(byte table, in OfRegisters regs, ulong metadata)
    {
        Table = table;
        _regs = regs;
        Metadata = metadata;
    }

    public byte Table { get; }

    public ulong Metadata { get; }

    public OfRegisters Registers => _regs;

    public bool Equals(Continuation other)
    {
        if (Table != other.Table || Metadata != other.Metadata)
        {
            return false;
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (_regs[i] != other._regs[i])
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is Continuation other && Equals(other);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Table);
        h.Add(Metadata);
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            h.Add(_regs[i]);
        }

        return h.ToHashCode();
    }

    public static bool operator ==(Continuation a, Continuation b) => a.Equals(b);

    public static bool operator !=(Continuation a, Continuation b) => !a.Equals(b);
}
