using Datapath.Flow;

namespace Datapath.OpenFlow;

/// <summary>
/// An OpenFlow match: value and mask over <see cref="OfFlow"/> (the analogue of Open vSwitch's
/// struct match). The value is kept masked, so two matches are equal exactly when they match the
/// same packets with the same fields.
/// </summary>
public sealed class OfMatch : IEquatable<OfMatch>
{
    // The words in lookup-stage order, as Open vSwitch's classifier stages its subtables (metadata
    // with the conntrack tuple, L2, L3, L4), and where each word's stage ends in that order: a rule
    // that fails in a stage un-wildcards that stage and the ones before.
    private static ReadOnlySpan<byte> StageOrder => [0, 1, 2, 3, 18, 19, 20, 21, 22, 23, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];

    private static ReadOnlySpan<byte> StageEnd => [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 12, 12, 12, 18, 18, 18, 18, 18, 18, 23, 23, 23, 23, 23];

    private OfFlow _value;
    private OfFlow _mask;

    public OfMatch(in OfFlow value, in OfFlow mask)
    {
        _mask = mask;
        _value = value;
        _value.Key = FlowKey.And(in value.Key, in mask.Key);
        _value.Metadata &= mask.Metadata;
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            _value.Regs[i] &= mask.Regs[i];
        }
    }

    /// <summary>The match that matches everything.</summary>
    public static OfMatch CatchAll { get; } = new(default, default);

    public ref readonly OfFlow Value => ref _value;

    public ref readonly OfFlow Mask => ref _mask;

    /// <summary>True when the match constrains nothing.</summary>
    public bool IsCatchAll => _mask.Key.IsZero && _mask.Metadata == 0 && RegistersUnmasked();

    /// <summary>Plain match test, without recording which fields were examined.</summary>
    public bool Matches(in OfFlow flow)
    {
        var ignored = default(FlowKey);
        return Matches(in flow, ref ignored);
    }

    /// <summary>
    /// Tests <paramref name="flow"/> and ORs into <paramref name="wildcards"/> the datapath key bits
    /// whose values decided the answer: on a match, the whole mask; on a mismatch, the mask of
    /// every stage up to the one that failed (registers and metadata are checked first and cost
    /// nothing, being outside the datapath key). Any packet that agrees with <paramref name="flow"/>
    /// on those bits gets the same answer.
    /// </summary>
    public bool Matches(in OfFlow flow, ref FlowKey wildcards)
    {
        if ((flow.Metadata & _mask.Metadata) != _value.Metadata)
        {
            return false;
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if ((flow.Regs[i] & _mask.Regs[i]) != _value.Regs[i])
            {
                return false;
            }
        }

        ReadOnlySpan<ulong> k = flow.Key.Words;
        ReadOnlySpan<ulong> m = _mask.Key.Words;
        ReadOnlySpan<ulong> v = _value.Key.Words;
        for (int i = 0; i < FlowKey.WordCount; i++)
        {
            int w = StageOrder[i];
            if ((k[w] & m[w]) != v[w])
            {
                Unwildcard(ref wildcards, StageEnd[i]);
                return false;
            }
        }

        Unwildcard(ref wildcards, FlowKey.WordCount - 1);
        return true;
    }

    /// <summary>True when some packet matches both this match and <paramref name="other"/> (OpenFlow's overlap, for check_overlap).</summary>
    public bool Overlaps(OfMatch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int w = 0; w < FlowKey.WordCount; w++)
        {
            if (((_value.Key.Words[w] ^ other._value.Key.Words[w]) & _mask.Key.Words[w] & other._mask.Key.Words[w]) != 0)
            {
                return false;
            }
        }

        if (((_value.Metadata ^ other._value.Metadata) & _mask.Metadata & other._mask.Metadata) != 0)
        {
            return false;
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (((_value.Regs[i] ^ other._value.Regs[i]) & _mask.Regs[i] & other._mask.Regs[i]) != 0)
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(OfMatch? other) =>
        other is not null && _value.Equals(other._value) && _mask.Equals(other._mask);

    public override bool Equals(object? obj) => Equals(obj as OfMatch);

    public override int GetHashCode() => HashCode.Combine(_value.GetHashCode(), _mask.GetHashCode());

    public override string ToString() => Syntax.MatchFormatter.Format(this, FlowEntry.DefaultPriority);

    /// <summary>ORs in the mask of the words of <see cref="StageOrder"/> up to position <paramref name="last"/>.</summary>
    private void Unwildcard(ref FlowKey wildcards, int last)
    {
        for (int i = 0; i <= last; i++)
        {
            int w = StageOrder[i];
            wildcards.Words[w] |= _mask.Key.Words[w];
        }
    }

    private bool RegistersUnmasked()
    {
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (_mask.Regs[i] != 0)
            {
                return false;
            }
        }

        return true;
    }
}
