namespace Datapath.Conntrack;

/// <summary>
/// Timeout policies (OVS conntrack-tp.c; ovs-vsctl add-zone-tp / del-zone-tp, ct(commit,timeout=NAME)):
/// named sets of <see cref="ConntrackTimeouts"/>, a policy per zone, and the defaults. A connection
/// takes its policy when it is committed (the ct action's named policy, else its zone's, else the
/// defaults) and keeps it. Each policy has its own expiry lists, so every list stays in expiry order.
/// Changing a policy's values gives it new lists: connections committed before keep the values they
/// were committed with until they leave. At most 255 policy versions exist over a table's life.
/// </summary>
public sealed partial class ConnectionTable
{
    private const int MaxPolicies = byte.MaxValue;
    private static readonly int Classes = Enum.GetValues<TimeoutClass>().Length;

    private readonly Dictionary<string, byte> _policyByName = new(StringComparer.Ordinal);
    private readonly Dictionary<ushort, byte> _zonePolicy = [];
    private readonly List<string?> _policyNames = [];
    private long[] _timeoutMs = [];
    private int[] _expiryHead = [];
    private int[] _expiryTail = [];

    /// <summary>The named policies and their timeouts.</summary>
    public IReadOnlyDictionary<string, ConntrackTimeouts> TimeoutPolicies =>
        _policyByName.ToDictionary(p => p.Key, p => PolicyTimeouts(p.Value), StringComparer.Ordinal);

    /// <summary>Zones with a policy of their own (add-zone-tp), and its name.</summary>
    public IReadOnlyDictionary<ushort, string> ZoneTimeoutPolicies =>
        _zonePolicy.ToDictionary(z => z.Key, z => _policyNames[z.Value]!);

    /// <summary>Adds or changes the policy <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">The table has no room for another policy version.</exception>
    public void SetTimeoutPolicy(string name, ConntrackTimeouts timeouts)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(timeouts);
        if (_policyNames.Count >= MaxPolicies)
        {
            throw new InvalidOperationException($"at most {MaxPolicies} timeout policy versions per table");
        }

        byte slot = AddPolicySlot(name, timeouts);
        if (_policyByName.TryGetValue(name, out byte old))
        {
            // Zones that used the old version follow the name.
            foreach (var zone in _zonePolicy.Where(z => z.Value == old).Select(z => z.Key).ToList())
            {
                _zonePolicy[zone] = slot;
            }
        }

        _policyByName[name] = slot;
    }

    /// <summary>Forgets a policy (and the zones that used it fall back to the defaults); its connections keep their timeouts.</summary>
    public bool RemoveTimeoutPolicy(string name)
    {
        if (!_policyByName.Remove(name, out byte slot))
        {
            return false;
        }

        foreach (var zone in _zonePolicy.Where(z => z.Value == slot).Select(z => z.Key).ToList())
        {
            _zonePolicy.Remove(zone);
        }

        return true;
    }

    /// <summary>Gives <paramref name="zone"/> the policy <paramref name="name"/> (add-zone-tp), or the defaults when null (del-zone-tp).</summary>
    /// <exception cref="ArgumentException">No such policy.</exception>
    public void SetZoneTimeoutPolicy(ushort zone, string? name)
    {
        if (name is null)
        {
            _zonePolicy.Remove(zone);
            return;
        }

        if (!_policyByName.TryGetValue(name, out byte slot))
        {
            throw new ArgumentException($"no timeout policy named '{name}'", nameof(name));
        }

        _zonePolicy[zone] = slot;
    }

    private void InitPolicies(ConntrackTimeouts defaults)
    {
        AddPolicySlot(null, defaults);
    }

    private byte AddPolicySlot(string? name, ConntrackTimeouts timeouts)
    {
        int slot = _policyNames.Count;
        _policyNames.Add(name);
        Array.Resize(ref _timeoutMs, (slot + 1) * Classes);
        Array.Resize(ref _expiryHead, (slot + 1) * Classes);
        Array.Resize(ref _expiryTail, (slot + 1) * Classes);
        for (int c = 0; c < Classes; c++)
        {
            _timeoutMs[(slot * Classes) + c] = timeouts.For((TimeoutClass)c);
            _expiryHead[(slot * Classes) + c] = -1;
            _expiryTail[(slot * Classes) + c] = -1;
        }

        return (byte)slot;
    }

    /// <summary>The policy a commit gives: the ct action's named one, else the zone's, else the defaults (an unknown name counts).</summary>
    private byte PolicyFor(in Actions.ConntrackArgs args, ushort zone)
    {
        if (args.TimeoutPolicy is { } name)
        {
            if (_policyByName.TryGetValue(name, out byte named))
            {
                return named;
            }

            Stats.Record(ConntrackCounter.UnknownTimeoutPolicy);
        }

        return _zonePolicy.Count != 0 && _zonePolicy.TryGetValue(zone, out byte own) ? own : (byte)0;
    }

    private string? PolicyName(byte slot) => _policyNames[slot];

    private ConntrackTimeouts PolicyTimeouts(byte slot)
    {
        int b = slot * Classes;
        return new ConntrackTimeouts
        {
            TcpSynSentMs = _timeoutMs[b + (int)TimeoutClass.TcpFirstPacket],
            TcpSynRecvMs = _timeoutMs[b + (int)TimeoutClass.TcpOpening],
            TcpEstablishedMs = _timeoutMs[b + (int)TimeoutClass.TcpEstablished],
            TcpFinWaitMs = _timeoutMs[b + (int)TimeoutClass.TcpClosing],
            TcpTimeWaitMs = _timeoutMs[b + (int)TimeoutClass.TcpFinWait],
            TcpCloseMs = _timeoutMs[b + (int)TimeoutClass.TcpClosed],
            UdpFirstMs = _timeoutMs[b + (int)TimeoutClass.OtherFirst],
            UdpSingleMs = _timeoutMs[b + (int)TimeoutClass.OtherMultiple],
            UdpMultipleMs = _timeoutMs[b + (int)TimeoutClass.OtherBidirectional],
            IcmpFirstMs = _timeoutMs[b + (int)TimeoutClass.IcmpFirst],
            IcmpReplyMs = _timeoutMs[b + (int)TimeoutClass.IcmpReply],
        };
    }
}
