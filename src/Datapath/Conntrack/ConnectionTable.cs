using System.Numerics;
using System.Runtime.CompilerServices;
using Datapath.Actions;
using Datapath.Conntrack.Nat;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// One partition of the connection tracker (the analogue of OVS's struct conntrack and
/// conntrack_execute / process_one in lib/conntrack.c), owned by exactly one thread or actor: not
/// thread-safe, no locks. All time is the caller's <c>nowMs</c>, so tests and replays run on
/// virtual time.
///
/// Storage: connections live in one flat array of <see cref="ConnectionEntry"/> slots, chained in
/// buckets by the symmetric hash (so both directions of a connection share one bucket and one
/// slot), and linked per timeout policy and <see cref="TimeoutClass"/> in expiry order so that
/// <see cref="Sweep"/> only looks at connections whose time is up. A translated connection (NAT)
/// has a reply tuple that is not the reverse of its original one: a second slot indexes it in its
/// own bucket and points back to the connection. Execute allocates nothing once the arrays are grown.
/// </summary>
public sealed partial class ConnectionTable : IReplyTupleClaims
{
    private const int MaxPendingRemovals = 65_536;
    private const CtState NatStates = CtState.SrcNat | CtState.DstNat;

    private readonly ConntrackOptions _options;
    private readonly int[] _zoneCounts = new int[ushort.MaxValue + 1];
    private readonly List<RemovedConnection> _pendingRemovals = new(64);

    private ConnectionEntry[] _entries;
    private int[] _buckets;
    private int _bucketShift;
    private int _freeHead = -1;
    private int _highWater;

    public ConnectionTable(ConntrackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        ArgumentOutOfRangeException.ThrowIfNegative(_options.ConnectionLimit);
        _connectionLimit = _options.ConnectionLimit;
        _tcpSequenceCheck = _options.TcpSequenceCheck;
        foreach (var (zone, limit) in _options.ZoneLimits)
        {
            SetZoneLimit(zone, limit);
        }

        _natSalt = _options.NatSeed ?? (uint)Random.Shared.Next();
        _natRandom = new Random(unchecked((int)_natSalt));
        _claims = this;
        InitPolicies(_options.Timeouts);
        foreach (var (name, timeouts) in _options.TimeoutPolicies)
        {
            SetTimeoutPolicy(name, timeouts);
        }

        foreach (var (zone, name) in _options.ZoneTimeoutPolicies)
        {
            SetZoneTimeoutPolicy(zone, name);
        }

        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, _options.InitialCapacity));
        _entries = new ConnectionEntry[capacity];
        _buckets = NewBuckets(capacity, out _bucketShift);
    }

    /// <summary>Committed connections in the table (expired ones count until swept or looked up).</summary>
    public int Count { get; private set; }

    public ConntrackStats Stats { get; } = new();

    public ConntrackOptions Options => _options;

    /// <summary>Connections in one zone.</summary>
    public int CountInZone(ushort zone) => _zoneCounts[zone];

    /// <summary>
    /// Runs one packet through conntrack: ct(zone, commit?, mark/label under masks, nat?). The zone is the
    /// input's (<see cref="ConntrackInput.Key"/>.Zone, set by the parser from the same ct action);
    /// <paramref name="args"/> gives commit, mark, label, nat and the timeout policy.
    /// </summary>
    public ConntrackResult Execute(in ConntrackInput input, in ConntrackArgs args, long nowMs)
    {
        var result = default(ConntrackResult);
        Execute(in input, in args, nowMs, ref result);
        return result;
    }

    /// <summary>
    /// Runs a batch in order (packets of one batch may belong to one connection, so order matters).
    /// <paramref name="results"/> must be at least as long as <paramref name="inputs"/>.
    /// </summary>
    public void Execute(ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long nowMs, Span<ConntrackResult> results)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(results.Length, inputs.Length);
        Prefetch(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            Execute(in inputs[i], in args, nowMs, ref results[i]);
        }
    }

    /// <summary>
    /// Runs a batch in order until a new translated connection needs an answer that
    /// <see cref="ReplyTupleClaims"/> cannot give at once (<see cref="ReplyClaim.Pending"/>): returns
    /// how many inputs were executed (all of them, or the position of the one waiting, which changed
    /// nothing and must be executed again once the claim is answered: <see cref="PendingClaim"/>).
    /// </summary>
    public int ExecuteUntilClaim(ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long nowMs, Span<ConntrackResult> results)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(results.Length, inputs.Length);
        Prefetch(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            _claimPending = false;
            Execute(in inputs[i], in args, nowMs, ref results[i]);
            if (_claimPending)
            {
                return i;
            }
        }

        return inputs.Length;
    }

    private void Execute(in ConntrackInput input, in ConntrackArgs args, long nowMs, ref ConntrackResult result)
    {
        ushort zone = input.Key.Zone;
        result = default;
        if (!input.IsValid)
        {
            result = InvalidResult(zone, input.InvalidReason);
            return;
        }

        // A ct() in another zone starts from a clean state (OVS process_one).
        CtState state = input.PreviousZone == zone ? input.PreviousState : CtState.None;
        int slot = LookupPacket(in input, state, nowMs, out bool reply);
        if (slot == ElsewhereSlot && input.Reroutes >= 2)
        {
            // The owner this tuple was reserved for sent the packet back: it no longer has the
            // connection, so the reservation is stale (its release may still be on its way).
            ReleaseReplyTuple(in _elsewhereKey);
            slot = LookupPacket(in input, state, nowMs, out reply);
        }

        if (slot == ElsewhereSlot || (slot == -1 && input.Reroutes == 1))
        {
            // A reply tuple reserved for another table's connection: its owner executes the packet.
            // A packet sent on to the owner that finds no connection goes back to its tuple's table.
            Stats.Record(ConntrackCounter.NatOwnedElsewhere);
            result.OwnedElsewhere = true;
            result.OwnerHash = slot == ElsewhereSlot ? ConntrackInputParser.ShardHashOf(_remoteOwners[_elsewhereKey]) : input.ShardHash;
            result.State = CtState.Tracked;
            result.Zone = zone;
            return;
        }

        bool create = false;
        if (slot >= 0)
        {
            if (input.IcmpRelated)
            {
                state |= reply ? CtState.Related | CtState.Reply : CtState.Related;
            }
            else
            {
                switch (Update(slot, in input, reply, nowMs))
                {
                    case UpdateResult.Valid:
                        state = (state & ~CtState.New) | (reply ? CtState.Established | CtState.Reply : CtState.Established);
                        break;
                    case UpdateResult.ValidNew:
                        state |= CtState.New;
                        break;
                    case UpdateResult.Invalid:
                        state = CtState.Invalid;
                        Stats.Record(ConntrackCounter.TcpOutOfWindow);
                        break;
                    case UpdateResult.InvalidFlags:
                        state = CtState.Invalid;
                        Stats.Record(ConntrackCounter.TcpInvalidFlags);
                        break;
                    default:
                        Remove(slot, RemovalReason.Replaced);
                        slot = -1;
                        create = true;
                        break;
                }
            }

            // OVS handle_nat: an existing translation applies once per zone, whatever the state says.
            if (slot >= 0 && args.Nat is not null && _entries[slot].Nat != NatAction.None && (state & NatStates) == 0)
            {
                result.Nat = Translation(slot, reply, input.IcmpRelated, ref state);
            }
        }
        else if (input.IcmpRelated)
        {
            // An ICMP error never opens a connection.
            state = CtState.Invalid;
            Stats.Record(ConntrackCounter.IcmpErrorWithoutConnection);
        }
        else
        {
            create = true;
        }

        bool drop = false;
        if (create)
        {
            slot = NotFound(in input, in args, nowMs, ref state, ref result.Nat, out drop);
        }

        result.State = state | CtState.Tracked;
        result.Zone = zone;
        result.Drop = drop;
        if (slot >= 0)
        {
            NoteChanged(slot);
            ref var entry = ref _entries[slot];
            if (args.Commit)
            {
                uint mark = entry.Mark;
                var label = entry.Label;
                entry.Mark = (args.Mark & args.MarkMask) | (entry.Mark & ~args.MarkMask);
                entry.Label = (args.Label & args.LabelMask) | (entry.Label & ~args.LabelMask);
                if (entry.BypassHolders != 0 && (mark != entry.Mark || label != entry.Label))
                {
                    NotifyBypassHolders(ref entry, BypassNoticeReason.MarkOrLabelChanged);
                }
            }

            if (entry.BypassHolders != 0 && !IsEstablished(result.State, entry.Timeout))
            {
                NotifyBypassHolders(ref entry, (result.State & CtState.Invalid) != 0 ? BypassNoticeReason.Invalid : BypassNoticeReason.LeftEstablished);
            }

            result.Mark = entry.Mark;
            result.Label = entry.Label;
            result.OriginalTuple = ConntrackTuple.FromKey(in entry.Key);
        }
        else
        {
            result.Mark = 0;
            result.Label = UInt128.Zero;
            result.OriginalTuple = ConntrackTuple.FromKey(in input.Key);
        }
    }

    /// <summary>
    /// Finds the packet's connection. A packet translated in this zone already (its state says
    /// +snat or +dnat) shows the other key's tuple: it is looked up reversed and its direction
    /// flipped, as OVS's initial_conn_lookup does.
    /// </summary>
    private int LookupPacket(in ConntrackInput input, CtState state, long nowMs, out bool reply)
    {
        if ((state & NatStates) == 0)
        {
            return Lookup(in input.Key, input.ShardHash, nowMs, out reply);
        }

        var reversed = input.Key.Reverse();
        int slot = Lookup(in reversed, input.ShardHash, nowMs, out reply);
        if (slot >= 0)
        {
            reply = !reply;
            return slot;
        }

        return slot == ElsewhereSlot ? slot : Lookup(in input.Key, input.ShardHash, nowMs, out reply);
    }

    /// <summary>The answer for a packet conntrack cannot key (non-IP, fragment, bad checksum...): inv|trk.</summary>
    public static ConntrackResult InvalidResult(ushort zone) => new() { State = CtState.Invalid | CtState.Tracked, Zone = zone };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ConntrackResult InvalidResult(ushort zone, ConntrackCounter reason)
    {
        Stats.Record(reason);
        return InvalidResult(zone);
    }

    /// <summary>OVS conn_not_found: may the packet open a connection, and does commit create it (translated when asked)?</summary>
    private int NotFound(in ConntrackInput input, in ConntrackArgs args, long nowMs, ref CtState state, ref NatRewrite nat, out bool drop)
    {
        drop = false;
        if (!ValidNew(in input))
        {
            state = CtState.Invalid;
            Stats.Record(ConntrackCounter.InvalidNew);
            return -1;
        }

        state = CtState.New;
        if (!args.Commit)
        {
            return -1;
        }

        int slot = Create(in input, in args, nowMs, out drop);
        if (slot >= 0 && _entries[slot].Nat != NatAction.None)
        {
            nat = Translation(slot, reply: false, related: false, ref state);
        }

        return slot;
    }

    private int Create(in ConntrackInput input, in ConntrackArgs args, long nowMs, out bool drop)
    {
        ushort zone = input.Key.Zone;
        drop = true;
        if (ZoneFull(zone))
        {
            Stats.Record(ConntrackCounter.ZoneLimitDrop);
            return -1;
        }

        if (Count >= _connectionLimit)
        {
            Stats.Record(ConntrackCounter.GlobalLimitDrop);
            return -1;
        }

        drop = false;
        var nat = args.Nat;
        ConntrackKey replyKey = default;
        var claim = ReplyClaim.ClaimedHere;
        if (nat is { SetsUpTranslation: true })
        {
            claim = FindReplyTuple(in input.Key, nat, nowMs, out replyKey);
            if (claim == ReplyClaim.Pending)
            {
                // Nothing changed: the packet runs again once the claim is answered.
                _claimPending = true;
                return -1;
            }

            if (claim == ReplyClaim.Taken)
            {
                // OVS: "Unable to NAT due to tuple space exhaustion": nothing is committed, the packet goes on as +new.
                Stats.Record(ConntrackCounter.NatExhausted);
                return -1;
            }
        }

        // Both slots before any reference into the array: taking the second may grow it.
        int slot = Allocate();
        int alias = nat is { SetsUpTranslation: true } ? Allocate() : -1;
        ref var entry = ref _entries[slot];
        entry = default;
        entry.Key = input.Key;
        entry.Hash = input.ShardHash;
        entry.InUse = true;
        entry.Link = -1;
        entry.Policy = PolicyFor(in args, zone);
        var timeout = Tracker(input.Key) switch
        {
            TrackerKind.Tcp => TcpTracker.Create(ref entry, in input),
            TrackerKind.Icmp => IcmpTracker.Create(ref entry, in input),
            _ => OtherTracker.Create(ref entry, in input),
        };

        LinkBucket(slot);
        if (alias >= 0)
        {
            LinkReplyKey(slot, alias, in replyKey, nat!.Kind, claimedElsewhere: claim == ReplyClaim.ClaimedElsewhere);
            if (claim == ReplyClaim.ClaimedElsewhere)
            {
                Stats.Record(ConntrackCounter.NatReplyTupleElsewhere);
            }
        }

        Count++;
        _zoneCounts[zone]++;
        LinkExpiry(slot, timeout, nowMs);
        Stats.Record(ConntrackCounter.Created);
        return slot;
    }

    private UpdateResult Update(int slot, in ConntrackInput input, bool reply, long nowMs)
    {
        ref var entry = ref _entries[slot];
        TimeoutClass refresh;
        bool renew;
        var result = Tracker(entry.Key) switch
        {
            TrackerKind.Tcp => TcpTracker.Update(ref entry, in input, reply, _tcpSequenceCheck, out refresh, out renew),
            TrackerKind.Icmp => IcmpTracker.Update(ref entry, in input, reply, out refresh, out renew),
            _ => OtherTracker.Update(ref entry, in input, reply, out refresh, out renew),
        };

        if (renew)
        {
            RenewExpiry(slot, refresh, nowMs);
        }

        return result;
    }

    private static bool ValidNew(in ConntrackInput input) => Tracker(input.Key) switch
    {
        TrackerKind.Tcp => TcpTracker.ValidNew(in input),
        TrackerKind.Icmp => IcmpTracker.ValidNew(in input),
        _ => OtherTracker.ValidNew(in input),
    };

    private enum TrackerKind : byte
    {
        Other,
        Tcp,
        Icmp,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TrackerKind Tracker(in ConntrackKey key) =>
        key.Protocol == IpProtocols.Tcp ? TrackerKind.Tcp
        : key.IsIcmp ? TrackerKind.Icmp
        : TrackerKind.Other;
}
