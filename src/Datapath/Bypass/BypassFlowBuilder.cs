using Datapath.Actions;
using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Bypass;

/// <summary>
/// Decides when a recirculated packet may leave a bypass flow behind, and builds it (DESIGN.md,
/// recirculation bypass). The conditions keep the bypass flow exactly equivalent to the two
/// passes it replaces:
/// <list type="bullet">
/// <item>the first pass's megaflow ends in ct then recirc to this pass's id, and nothing before the
/// ct changes the packet (so the first pass's exact key can be told from this pass's key);</item>
/// <item>this is the packet's first recirculation and it is no fragment;</item>
/// <item>conntrack said established (+est+trk, not new, related or invalid);</item>
/// <item>the recirculated megaflow ends the pipeline (no ct, recirc or guard of its own);</item>
/// <item>with ct(nat): megaflow mode only, and the recirculated megaflow matches no field a
/// translation rewrites (<see cref="CanCombine"/>).</item>
/// </list>
/// Action lists and guards are shared by every connection through the same pair of megaflows.
/// </summary>
internal sealed class BypassFlowBuilder
{
    private const CtState Checked = CtState.Established | CtState.Tracked | CtState.New | CtState.Invalid | CtState.Related;

    private readonly Dictionary<(Megaflow Original, Megaflow Recirculated), ActionList> _shared = [];
    private readonly ExtractionStats _extraction = new();
    private FlowKey _firstPassKey;

    /// <summary>True when a first pass through <paramref name="flow"/> may lead to a bypass flow: its actions end in ct, recirc.</summary>
    public static bool EndsInConntrackRecirculation(Megaflow flow)
    {
        // A bypass flow first: it is what established connections hit on every packet.
        if (flow.IsBypassFlow)
        {
            return false;
        }

        var actions = flow.Actions.Actions;
        int n = actions.Length;
        if (n < 2 || actions[n - 1].Kind != ActionKind.Recirculate || actions[n - 2].Kind != ActionKind.Conntrack)
        {
            return false;
        }

        for (int i = 0; i < n - 2; i++)
        {
            if (actions[i].Kind is not (ActionKind.Output or ActionKind.Userspace))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The bypass flow for the first pass of <paramref name="packet"/> (now on its recirculated
    /// pass with <paramref name="key"/>, having hit <paramref name="recirculated"/> after
    /// <paramref name="original"/>), or null when the conditions do not hold: the live one of
    /// <paramref name="table"/> if it has one (<paramref name="built"/> false), else a new one.
    /// Allocates only when it builds (once per connection direction, like an upcall), not for every
    /// recirculated packet of a connection whose bypass flow the EMC evicted.
    /// </summary>
    public Megaflow? TryBuild(Packet packet, in FlowKey key, Megaflow original, Megaflow recirculated, BypassFlowTable table, out bool built)
    {
        built = false;

        // An exact bypass flow needs the packet's exact first-pass key, which a translation
        // rewrote and nothing kept: ct with nat combines in megaflow mode only (CanCombine).
        if (!Eligible(packet, in key, original, recirculated) || Translates(original))
        {
            return null;
        }

        var ct = original.Actions.Actions[^2].Ct;
        if (!ConntrackInput.TryParse(packet, in key, ct.Zone, out var input) || !input.IsValid)
        {
            return null;
        }

        FirstPass(in key, out _firstPassKey);
        uint hash = FlowHash.Hash(in _firstPassKey);
        if (table.Lookup(in _firstPassKey, hash) is { } existing)
        {
            return existing;
        }

        built = true;
        var actions = Shared(original, recirculated);
        return new Megaflow(in _firstPassKey, FlowKey.AllOnes, actions)
        {
            BypassOriginal = original,
            BypassRecirculated = recirculated,
            Origin = new BypassFlowOrigin(in input.Key, input.ShardHash, hash),
        };
    }

    /// <summary>
    /// Megaflow mode: true when the packet's passes may be combined; <paramref name="firstPassKey"/>
    /// is then the key of its first pass, to look the masked bypass flow up with.
    /// </summary>
    /// <param name="exact">False when ct translated the packet: <paramref name="firstPassKey"/> is then right only on the masked bypass flow's bits, not the packet's exact key (no EMC entry from it).</param>
    public bool CanCombine(Packet packet, in FlowKey key, Megaflow original, Megaflow recirculated, out FlowKey firstPassKey, out bool exact)
    {
        firstPassKey = default;
        exact = true;
        if (!Eligible(packet, in key, original, recirculated))
        {
            return false;
        }

        FirstPass(in key, out firstPassKey);
        if (!Translates(original))
        {
            return true;
        }

        // ct(nat) rewrote addresses and ports between the passes (the translation is part of ct's
        // result, and the bypass flow's ct applies it just as the first pass did). So the bypass flow
        // may only rely on what the translation cannot change: the recirculated megaflow must not
        // match translated fields (then the packet matches it after ct as it would after recirculating,
        // whatever the connection's translation), and the first pass's bits come from the original
        // megaflow, which matched the packet before translation.
        if (MatchesTranslatedFields(in recirculated.Mask))
        {
            return false;
        }

        exact = false;
        ref readonly var mask = ref original.Mask;
        ref readonly var value = ref original.Key;
        for (int w = 0; w < FlowKey.WordCount; w++)
        {
            firstPassKey[w] = (firstPassKey[w] & ~mask[w]) | (value[w] & mask[w]);
        }

        return true;
    }

    /// <summary>True when the first pass's ct may translate (nat), so the recirculated pass sees rewritten headers.</summary>
    private static bool Translates(Megaflow original) => original.Actions.Actions[^2].Ct.Nat is not null;

    /// <summary>Addresses (IPv4 and IPv6) and L4 ports: what a NAT rewrite changes in a flow key.</summary>
    private static bool MatchesTranslatedFields(in FlowKey mask) =>
        mask[8] != 0 || mask[9] != 0 || mask[10] != 0 || mask[11] != 0 || mask[12] != 0 || (mask[13] & 0xFFFF_FFFFUL) != 0;

    /// <summary>
    /// The masked bypass flow of a pair: the original's match plus the recirculated flow's match on
    /// packet fields (its recirculation id and conntrack fields are what the ct action and the guard
    /// stand for). Every packet it matches would have hit the original, and, once its conntrack
    /// fields pass the guard, the recirculated megaflow: so it is exact for every connection at once.
    /// </summary>
    public Megaflow BuildMasked(in FlowKey firstPassKey, Megaflow original, Megaflow recirculated)
    {
        var packetFields = recirculated.Mask;
        packetFields[0] &= 0xFFFF_FFFFUL;
        packetFields.ClearConntrack();
        var mask = FlowKey.Or(in original.Mask, in packetFields);
        var actions = Shared(original, recirculated);
        return new Megaflow(in firstPassKey, in mask, actions)
        {
            BypassOriginal = original,
            BypassRecirculated = recirculated,
        };
    }

    private static bool Eligible(Packet packet, in FlowKey key, Megaflow original, Megaflow recirculated)
    {
        var recirc = original.Actions.Actions[^1];
        // The guard does not check the ct tuple: a recirculated flow that matches it is not combined.
        return packet.Metadata.RecircDepth == 1 && key.RecircId == recirc.RecircId && key.NwFrag == 0
            && (key.CtState & Checked) == (CtState.Established | CtState.Tracked)
            && !recirculated.Mask.HasCtTuple
            && EndsThePipeline(recirculated);
    }

    /// <summary>The first pass saw the packet as it came from its port: no recirculation, no ct fields yet.</summary>
    private static void FirstPass(in FlowKey key, out FlowKey firstPassKey)
    {
        firstPassKey = key;
        firstPassKey[0] &= 0xFFFF_FFFFUL;
        firstPassKey.ClearConntrack();
    }

    /// <summary>The first-pass key and hash of a packet as it came from its port (to find its bypass flow when its guard failed).</summary>
    public uint FirstPassKey(Packet packet, out FlowKey key)
    {
        var metadata = default(PacketMetadata);
        metadata.Reset(packet.Metadata.InPort);
        key = default;
        FlowExtractor.Extract(packet.Data, in metadata, ref key, _extraction, out _, out _);
        return FlowHash.Hash(in key);
    }

    /// <summary>Forgets the shared lists of megaflows that died.</summary>
    public void ForgetDead()
    {
        List<(Megaflow, Megaflow)>? dead = null;
        foreach (var pair in _shared.Keys)
        {
            if (pair.Original.IsDead || pair.Recirculated.IsDead)
            {
                (dead ??= []).Add(pair);
            }
        }

        if (dead is not null)
        {
            foreach (var pair in dead)
            {
                _shared.Remove(pair);
            }
        }
    }

    private static bool EndsThePipeline(Megaflow flow)
    {
        if (flow.IsBypassFlow)
        {
            return false;
        }

        foreach (ref readonly var action in flow.Actions.Actions)
        {
            if (action.Kind is ActionKind.Conntrack or ActionKind.Recirculate or ActionKind.CtGuard)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The bypass flows' action list of a pair of megaflows (one per pair, shared by their bypass flows).</summary>
    private ActionList Shared(Megaflow original, Megaflow recirculated)
    {
        uint recircId = original.Actions.Actions[^1].RecircId;
        if (_shared.TryGetValue((original, recirculated), out var shared))
        {
            return shared;
        }

        // The original's actions up to and including ct, the guard, then the recirculated flow's actions.
        var guard = new CtGuard(recirculated, recircId);
        var first = original.Actions.Actions[..^1];
        var then = recirculated.Actions.Actions;
        var list = new DatapathAction[first.Length + 1 + then.Length];
        first.CopyTo(list);
        list[first.Length] = DatapathAction.CtGuard(guard);
        then.CopyTo(list.AsSpan(first.Length + 1));
        shared = new ActionList(list);
        _shared[(original, recirculated)] = shared;
        return shared;
    }
}
