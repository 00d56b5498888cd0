using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow;

/// <summary>One OpenFlow action of a rule (the analogue of Open vSwitch's struct ofpact). Immutable values.</summary>
public abstract record OfAction;

/// <summary>output:N.</summary>
public sealed record OutputAction(uint Port) : OfAction;

/// <summary>The reserved ports an action can name.</summary>
public enum ReservedPort : byte
{
    InPort,
    Normal,
    Flood,
    All,

    /// <summary>OFPP_TABLE: only in packet_out, runs the packet through the tables from table 0.</summary>
    Table,
}

/// <summary>
/// controller(reason=R,max_len=N,id=I), controller:N, or output to OFPP_CONTROLLER: sends the
/// packet (its first <see cref="MaxLength"/> bytes; 65535: the whole packet) to the controllers in
/// a packet_in with <see cref="Reason"/>, and goes on with the next action.
/// </summary>
public sealed record ControllerAction(ushort MaxLength, Wire.PacketInReason Reason, ushort ControllerId) : OfAction
{
    /// <summary>OFPCML_NO_BUFFER: the whole packet.</summary>
    public const ushort WholePacket = 0xffff;
}

/// <summary>move:SRC[a..b]->DST[c..d] (NXAST_REG_MOVE): copies bits between fields.</summary>
public sealed record MoveAction(Subfield Source, Subfield Destination) : OfAction;

/// <summary>mod_vlan_pcp:N (or set_field:N->vlan_pcp): the tag's priority; mod_vlan_pcp pushes a tag when there is none.</summary>
public sealed record ModVlanPcpAction(byte Pcp, bool PushIfNeeded = true) : OfAction;

/// <summary>exit: stops the whole translation here (resubmits included); what was output so far stays.</summary>
public sealed record ExitAction : OfAction;

/// <summary>IN_PORT, NORMAL, FLOOD, ALL (as actions or as output:NAME).</summary>
public sealed record ReservedOutputAction(ReservedPort Port) : OfAction;

/// <summary>resubmit(P,T): look up table T (default: the current one) as if the packet came in on P (default: its in_port).</summary>
public sealed record ResubmitAction(uint? InPort, byte? Table) : OfAction;

/// <summary>goto_table:T (always forward, always last).</summary>
public sealed record GotoTableAction(byte Table) : OfAction;

/// <summary>A register subfield NAME[a..b] (Open vSwitch's struct mf_subfield).</summary>
public sealed record Subfield(OfField Field, int Offset, int Bits)
{
    public UInt128 Mask => (Bits >= 128 ? UInt128.MaxValue : (UInt128.One << Bits) - 1) << Offset;

    public UInt128 Read(in OfFlow flow) => (Field.Get(in flow) >> Offset) & (Bits >= 128 ? UInt128.MaxValue : (UInt128.One << Bits) - 1);
}

/// <summary>ct(commit, zone=..., table=..., nat(...), timeout=..., exec(...)).</summary>
public sealed record ConntrackAction(bool Commit, ushort Zone, Subfield? ZoneSource, byte? Table, IReadOnlyList<SetFieldOfAction> Exec) : OfAction
{
    /// <summary>nat, nat(src=...) or nat(dst=...), or null.</summary>
    public Actions.NatArgs? Nat { get; init; }

    /// <summary>timeout=NAME: the timeout policy a commit gives the connection, or null for the zone's.</summary>
    public string? Timeout { get; init; }

    public bool Equals(ConntrackAction? other) =>
        other is not null && Commit == other.Commit && Zone == other.Zone && Equals(ZoneSource, other.ZoneSource)
        && Table == other.Table && Exec.SequenceEqual(other.Exec) && Equals(Nat, other.Nat) && Timeout == other.Timeout;

    public override int GetHashCode() => HashCode.Combine(Commit, Zone, ZoneSource, Table, Exec.Count, Nat, Timeout);
}

/// <summary>ct_clear.</summary>
public sealed record CtClearAction : OfAction;

/// <summary>How a field write was spelled, so dump-flows prints it back the same way.</summary>
public enum SetFieldSpelling : byte
{
    SetField,
    Load,
    ModDlSrc,
    ModDlDst,
    ModNwSrc,
    ModNwDst,
    ModNwTos,
    ModTpSrc,
    ModTpDst,
    ModNwTtl,
    WriteMetadata,
}

/// <summary>
/// A masked write of a field: set_field, load and the mod_* actions. <see cref="Value"/> is
/// already shifted into place and masked; <see cref="Mask"/> marks the written bits.
/// </summary>
public sealed record SetFieldOfAction(OfField Field, UInt128 Value, UInt128 Mask, SetFieldSpelling Spelling) : OfAction;

/// <summary>dec_ttl.</summary>
public sealed record DecTtlAction : OfAction;

/// <summary>push_vlan:TPID.</summary>
public sealed record PushVlanAction(ushort Tpid) : OfAction;

/// <summary>pop_vlan (or strip_vlan).</summary>
public sealed record PopVlanAction(bool StripSpelling) : OfAction;

/// <summary>
/// mod_vlan_vid:N (pushes a tag when there is none, as Open vSwitch does), or set_field:N->vlan_vid
/// (<paramref name="PushIfNeeded"/> false: only a tagged packet changes).
/// </summary>
public sealed record ModVlanVidAction(ushort Vid, bool PushIfNeeded = true) : OfAction;

/// <summary>note:hex bytes; does nothing.</summary>
public sealed record NoteAction(string Hex) : OfAction;
