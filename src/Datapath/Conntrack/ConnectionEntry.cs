namespace Datapath.Conntrack;

/// <summary>
/// One slot of a <see cref="ConnectionTable"/> (the analogue of OVS's struct conn plus its
/// per-protocol part): the original-direction key, the protocol state, mark/label, expiry, and
/// the links of the bucket chain and of its timeout-class list. Kept in one flat array, so a
/// connection costs one slot and no object; a translated (NAT) connection costs a second slot,
/// its <see cref="EntryKind.ReplyKey"/>, which puts the reply tuple in the reply tuple's bucket.
/// </summary>
internal struct ConnectionEntry
{
    /// <summary>A connection: its original-direction key. A reply-key slot: the reply tuple.</summary>
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

    public EntryKind Kind;

    /// <summary>
    /// A reply key whose tuple hashes to another table's buckets, which reserved it for this
    /// connection: that table is told (<see cref="ConnectionTable.DrainReplyReleases"/>) when the
    /// connection goes. The key is indexed here too, for the packets that table sends on to this one.
    /// </summary>
    public bool ClaimedElsewhere;

    /// <summary>How the connection translates its original direction (<see cref="NatAction.None"/>: it does not).</summary>
    public NatAction Nat;

    /// <summary>The slot of its timeout policy's lists in the table (0: the defaults).</summary>
    public byte Policy;

    /// <summary>
    /// A translated connection: the slot of its reply key. A reply-key slot: the slot of its
    /// connection, or -1 for a reply tuple whose connection another table owns. Otherwise -1.
    /// </summary>
    public int Link;
}

/// <summary>What a slot of the table holds.</summary>
internal enum EntryKind : byte
{
    /// <summary>A connection, found by its original key and, unless translated, by the reverse of it.</summary>
    Connection,

    /// <summary>The reply tuple of a translated connection of this table (<see cref="ConnectionEntry.Link"/>).</summary>
    ReplyKey,

    /// <summary>
    /// A reply tuple reserved for a translated connection that another table owns (a shard whose
    /// bucket the reply tuple hashes to): lookups of it answer with the owner's original key.
    /// </summary>
    RemoteReplyKey,
}

/// <summary>Which address a connection's translation rewrites in the original direction.</summary>
internal enum NatAction : byte
{
    None,
    Source,
    Destination,
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
