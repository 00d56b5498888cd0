namespace Datapath.Conntrack;

/// <summary>
/// One slot of a <see cref="ConnectionTable"/> (the analogue of OVS's struct conn plus its
/// per-protocol part): the original-direction key, the protocol state, mark/label, expiry, and
/// the links of the bucket chain and of its timeout-class list. Kept in one flat array, so a
/// connection costs one slot and no object.
/// </summary>
internal struct ConnectionEntry
{
    public ConntrackKey Key;
    public UInt128 Label;

    /// <summary>When the connection expires (renewed in place by traffic).</summary>
    public long Expiration;

    /// <summary>Its expiry when it was last linked into its class list: the list is ordered by this.</summary>
    public long QueuedExpiration;

    /// <summary>TCP: the originator (OVS peer[0]).</summary>
    public TcpPeer Orig;

    /// <summary>TCP: the responder (OVS peer[1]).</summary>
    public TcpPeer Reply;

    public uint Mark;
    public uint Hash;

    /// <summary>Holders of bypass flows for this connection (one bit each, the owner's numbering), told when it leaves the established state.</summary>
    public ulong BypassHolders;

    /// <summary>Next slot in the bucket chain (or in the free list); -1 ends it.</summary>
    public int Next;

    public int ExpiryPrev;
    public int ExpiryNext;

    /// <summary>UDP/other and ICMP pseudo-state (<see cref="OtherState"/>, <see cref="IcmpState"/>).</summary>
    public byte L4State;

    /// <summary>The class whose timeout applies now.</summary>
    public TimeoutClass Timeout;

    /// <summary>The class list it is queued in (differs from <see cref="Timeout"/> until the sweep requeues it).</summary>
    public TimeoutClass QueuedClass;

    public bool InUse;
}

/// <summary>What a protocol tracker says about a packet of a known connection (OVS enum ct_update_res).</summary>
internal enum UpdateResult : byte
{
    /// <summary>Part of the connection: est.</summary>
    Valid,

    /// <summary>Outside the sequence window: inv.</summary>
    Invalid,

    /// <summary>An impossible TCP flag combination: inv.</summary>
    InvalidFlags,

    /// <summary>A new connection reuses the closed tuple: replace the old one.</summary>
    New,

    /// <summary>Accepted, but the connection is still opening: new.</summary>
    ValidNew,
}

/// <summary>
/// One protocol's state machine behind a common interface (OVS struct ct_l4_proto). Static
/// abstract members, so the table's generic dispatch is specialised per protocol by the JIT.
/// </summary>
internal interface IProtocolTracker
{
    /// <summary>May this packet open a connection (OVS valid_new)?</summary>
    static abstract bool ValidNew(in ConntrackInput input);

    /// <summary>Initialises a new connection's protocol state from its first packet (OVS new_conn).</summary>
    static abstract TimeoutClass Create(ref ConnectionEntry entry, in ConntrackInput input);

    /// <summary>
    /// Updates a known connection with a packet (OVS conn_update). When <paramref name="renew"/> is
    /// set, the connection's expiry restarts in class <paramref name="refresh"/>.
    /// </summary>
    static abstract UpdateResult Update(
        ref ConnectionEntry entry,
        in ConntrackInput input,
        bool reply,
        out TimeoutClass refresh,
        out bool renew);
}
