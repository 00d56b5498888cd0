using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// Watching connections for the recirculation bypass: a PMD that built a bypass flow for a
/// connection asks to be told when it leaves the established state (FIN or RST seen, an invalid
/// packet, a commit that changes ct_mark or ct_label) or the table (expiry, replacement, flush).
/// The holders are bits of the owner's numbering, kept in the connection's slot, so a packet of an
/// unwatched connection pays one test.
/// </summary>
public sealed partial class ConnectionTable
{
    private readonly List<BypassNotice> _bypassNotices = [];

    /// <summary>
    /// Adds <paramref name="holders"/> to the connection's watchers. Returns false (and watches
    /// nothing) when there is no such connection or it is not established now: the caller should
    /// revoke at once, since no notice will come.
    /// </summary>
    public bool WatchBypassFlow(in ConntrackKey key, uint hash, ulong holders, long nowMs)
    {
        int slot = Lookup(in key, hash, nowMs, out _);
        if (slot < 0)
        {
            return false;
        }

        ref var entry = ref _entries[slot];
        if (!IsEstablished(CtState.Established, entry.Timeout))
        {
            return false;
        }

        entry.BypassHolders |= holders;
        return true;
    }

    /// <summary>Hands over (and forgets) the notices gathered since the last drain.</summary>
    public void DrainBypassNotices(List<BypassNotice> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        into.AddRange(_bypassNotices);
        _bypassNotices.Clear();
    }

    /// <summary>Notices waiting to be drained.</summary>
    public int PendingBypassNotices => _bypassNotices.Count;

    /// <summary>
    /// Established for the bypass: conntrack answered +est without inv, and the protocol state is
    /// the steady one (TCP established, UDP/other both ways, ICMP reply seen), not closing.
    /// </summary>
    private static bool IsEstablished(CtState state, TimeoutClass timeout) =>
        (state & (CtState.Established | CtState.Invalid)) == CtState.Established
        && timeout is TimeoutClass.TcpEstablished or TimeoutClass.OtherBidirectional or TimeoutClass.IcmpReply;

    private void NotifyBypassHolders(ref ConnectionEntry entry, BypassNoticeReason reason)
    {
        _bypassNotices.Add(new BypassNotice(entry.Key, entry.Hash, entry.BypassHolders, reason));
        entry.BypassHolders = 0;
    }
}
