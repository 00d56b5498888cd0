using Datapath.Actions;
using Datapath.Flow;

namespace Datapath.OpenFlow.Syntax;

/// <summary>Reads a field of an <see cref="OfFlow"/> as an unsigned number (low <see cref="OfField.Width"/> bits).</summary>
public delegate UInt128 FieldGetter(in OfFlow flow);

/// <summary>Writes a field of an <see cref="OfFlow"/>.</summary>
public delegate void FieldSetter(ref OfFlow flow, UInt128 value);

/// <summary>
/// One OpenFlow field: its names, width, value syntax, prerequisites and where it lives in
/// <see cref="OfFlow"/> (the analogue of Open vSwitch's struct mf_field). Immutable.
/// </summary>
public sealed class OfField
{
    internal OfField(string name, int width, FieldSyntax syntax, FieldPrerequisite prerequisite, FieldGetter get, FieldSetter set)
    {
        Name = name;
        Width = width;
        Syntax = syntax;
        Prerequisite = prerequisite;
        Get = get;
        Set = set;
    }

    /// <summary>The name set_field and dump-flows print.</summary>
    public string Name { get; }

    /// <summary>Width in bits.</summary>
    public int Width { get; }

    public FieldSyntax Syntax { get; }

    public FieldPrerequisite Prerequisite { get; }

    public bool Maskable { get; init; } = true;

    /// <summary>May appear as set_field / load destination.</summary>
    public bool Writable { get; init; }

    /// <summary>Only writable inside ct(exec(...)) (ct_mark, ct_label).</summary>
    public bool ConntrackOnly { get; init; }

    /// <summary>The NXM/OXM name load uses (NXM_NX_REG0...), or null.</summary>
    public string? NxmName { get; init; }

    /// <summary>The datapath header rewrite this field maps to, for writable header fields.</summary>
    public SetFieldTarget? DatapathTarget { get; init; }

    /// <summary>True for fields outside the datapath key (registers, metadata).</summary>
    public bool TranslationOnly { get; init; }

    public FieldGetter Get { get; }

    public FieldSetter Set { get; }

    public UInt128 AllOnes => Width >= 128 ? UInt128.MaxValue : (UInt128.One << Width) - 1;

    public override string ToString() => Name;
}
