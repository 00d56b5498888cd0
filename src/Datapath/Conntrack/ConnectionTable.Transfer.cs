using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Datapath.Actions;

namespace Datapath.Conntrack;

/// <summary>
/// Moving a whole table to another owner (a conntrack shard handed to another node): the table is
/// written as a sequence of self-checking chunks of bounded size (<see cref="TableExport"/>) and read
/// back chunk by chunk (<see cref="Import"/>) into an empty table. Every connection keeps its tuple,
/// TCP window data, protocol state, zone, mark, label, timeout policy and absolute expiry (on the
/// owner's clock, which moves with it); translated connections keep their reply tuple, and reply tuples
/// reserved for other tables' connections move too. Connections are written in expiry-list order, so
/// the importer rebuilds the lists by appending. Bypass watches do not move (they name the old node's
/// PMDs): <see cref="RevokeAllBypassWatches"/> tells their holders first.
///
/// A chunk is checked whole (magic, version, length, CRC-32, every field's range, no duplicate tuple)
/// before any of it is applied, so a chunk either enters entirely or not at all.
/// </summary>
public sealed partial class ConnectionTable
{
    /// <summary>Bytes of a chunk's header: magic, version, record count, body length, CRC-32 of the body.</summary>
    public const int TransferHeaderBytes = 16;

    /// <summary>The largest record (a translated connection with a named policy).</summary>
    public const int MaxTransferRecordBytes = ConnectionRecordBytes + 1 + MaxPolicyNameBytes + KeyBytes + 1;

    /// <summary>The chunk format this table writes and reads; nodes of one cluster must agree on it.</summary>
    public const int TransferFormat = TransferVersion;

    private const uint TransferMagic = 0x3148_5443; // "CTH1"
    private const byte TransferVersion = 1;
    private const byte ConnectionTag = 1;
    private const byte ReservationTag = 2;
    private const int KeyBytes = 42;
    private const int PeerBytes = 12;
    private const int MaxPolicyNameBytes = 64;

    // tag, key, mark, label, expiration, queued expiration, timeout, queued class, L4 state, two peers, nat.
    private const int ConnectionRecordBytes = 1 + KeyBytes + 4 + 16 + 8 + 8 + 1 + 1 + 1 + (2 * PeerBytes) + 1;

    /// <summary>Starts writing the table out. The table must not change until the export is done.</summary>
    public TableExport BeginExport() => new(this);

    /// <summary>
    /// Tells every holder of a bypass flow that its flows of this table's connections go (the notices
    /// wait in <see cref="DrainBypassNotices"/>): an owner that hands the table over stops watching.
    /// </summary>
    public void RevokeAllBypassWatches()
    {
        for (int slot = 0; slot < _highWater; slot++)
        {
            ref var entry = ref _entries[slot];
            if (entry.InUse && entry.Kind == EntryKind.Connection && entry.BypassHolders != 0)
            {
                NotifyBypassHolders(ref entry, BypassNoticeReason.Removed);
            }
        }
    }

    /// <summary>
    /// The largest owner's clock a moved table may come with (2^52 ms, 142,000 years): far beyond any
    /// real clock (frame clocks read Unix milliseconds), and far enough from <see cref="long.MaxValue"/>
    /// that the clock plus any timeout or elapsed time cannot wrap.
    /// </summary>
    public const long MaxTransferClockMs = 1L << 52;

    /// <summary>
    /// Adds one chunk of another table's export. The chunk is checked whole first; on any error nothing
    /// is added and the error says what was wrong. <paramref name="belongs"/>, when given, must accept
    /// the symmetric hash of every tuple (a shard refuses connections that are not its own).
    /// <paramref name="clockMs"/>, when given, is the owner's clock the chunk's expiry times are on: a
    /// connection expiring later than it plus the longest timeout any node allows is refused (another
    /// node's chunk could otherwise keep a connection forever).
    /// </summary>
    public TransferImportResult Import(ReadOnlySpan<byte> chunk, Func<uint, bool>? belongs = null, long? clockMs = null)
    {
        if (ClockError(clockMs) is { } clockError)
        {
            return TransferImportResult.Failed(clockError);
        }

        if (chunk.Length < TransferHeaderBytes)
        {
            return TransferImportResult.Failed("chunk shorter than its header");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(chunk) != TransferMagic)
        {
            return TransferImportResult.Failed("not a conntrack table chunk (bad magic)");
        }

        if (chunk[4] != TransferVersion)
        {
            return TransferImportResult.Failed($"chunk format version {chunk[4]}, this node reads {TransferVersion}");
        }

        int records = BinaryPrimitives.ReadUInt16LittleEndian(chunk[6..]);
        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(chunk[8..]);
        var body = chunk[TransferHeaderBytes..];
        if (bodyLength != (uint)body.Length)
        {
            return TransferImportResult.Failed($"chunk body is {body.Length} bytes, its header says {bodyLength}");
        }

        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(chunk[12..]))
        {
            return TransferImportResult.Failed("chunk checksum mismatch");
        }

        var parsed = new List<TransferRecord>(records);
        var seen = new HashSet<ConntrackKey>();
        var reader = new TransferReader(body);
        for (int i = 0; i < records; i++)
        {
            if (!TryReadRecord(ref reader, out var record, out string? error))
            {
                return TransferImportResult.Failed($"record {i}: {error}");
            }

            if (ExpiryError(in record, clockMs) is { } expiryError)
            {
                return TransferImportResult.Failed($"record {i}: {expiryError}");
            }

            // A reservation's other key is the owner's tuple (another table's); a reply tuple claimed
            // elsewhere hashes to another shard: only the others must be this shard's.
            bool replyFresh = !record.HasReplyKey || record.IsReservation || Fresh(in record.ReplyKey, seen, record.ReplyClaimedElsewhere ? null : belongs);
            if (!Fresh(in record.Key, seen, belongs) || !replyFresh)
            {
                return TransferImportResult.Failed($"record {i}: a tuple that is already in the table, twice in the chunk, or not this shard's");
            }

            parsed.Add(record);
        }

        if (!reader.AtEnd)
        {
            return TransferImportResult.Failed("bytes after the last record");
        }

        int connections = 0;
        foreach (var record in parsed)
        {
            if (record.IsReservation)
            {
                Reserve(in record.Key, in record.ReplyKey);
            }
            else
            {
                Restore(in record);
                connections++;
            }
        }

        return new TransferImportResult(true, connections, parsed.Count - connections, null);
    }

    private bool Fresh(in ConntrackKey key, HashSet<ConntrackKey> seen, Func<uint, bool>? belongs)
    {
        uint hash = ConntrackInputParser.ShardHashOf(in key);
        return seen.Add(key)
            && (belongs is null || belongs(hash))
            && Lookup(in key, hash, long.MinValue, out _) == -1;
    }

    private bool TryReadRecord(ref TransferReader reader, out TransferRecord record, out string? error)
    {
        record = default;
        error = null;
        if (!reader.TryByte(out byte tag))
        {
            error = "truncated";
            return false;
        }

        if (tag == ReservationTag)
        {
            record.IsReservation = true;
            record.HasReplyKey = true;
            if (!reader.TryKey(out record.ReplyKey) || !reader.TryKey(out record.Key))
            {
                error = "truncated or malformed reservation";
                return false;
            }

            // Key: the reserved reply tuple (indexed here); ReplyKey: the owner's original key.
            (record.Key, record.ReplyKey) = (record.ReplyKey, record.Key);
            return true;
        }

        if (tag != ConnectionTag)
        {
            error = $"unknown record type {tag}";
            return false;
        }

        if (!reader.TryKey(out record.Key)
            || !reader.TryUInt32(out record.Mark)
            || !reader.TryUInt128(out record.Label)
            || !reader.TryInt64(out record.Expiration)
            || !reader.TryInt64(out record.QueuedExpiration)
            || !reader.TryByte(out byte timeout)
            || !reader.TryByte(out byte queued)
            || !reader.TryByte(out record.L4State)
            || !reader.TryPeer(out record.Orig)
            || !reader.TryPeer(out record.Reply)
            || !reader.TryByte(out byte policyLength)
            || policyLength > MaxPolicyNameBytes
            || !reader.TryBytes(policyLength, out var policyName)
            || !reader.TryByte(out byte nat))
        {
            error = "truncated or malformed connection";
            return false;
        }

        if (timeout >= Classes || queued >= Classes)
        {
            error = "timeout class out of range";
            return false;
        }

        if (nat > (byte)NatAction.Destination)
        {
            error = "unknown translation";
            return false;
        }

        bool inRange = Tracker(record.Key) switch
        {
            TrackerKind.Tcp => record.Orig.State <= TcpState.TimeWait && record.Reply.State <= TcpState.TimeWait,
            TrackerKind.Icmp => record.L4State <= (byte)IcmpState.Reply,
            _ => record.L4State <= (byte)OtherState.Bidirectional,
        };
        if (!inRange)
        {
            error = "protocol state out of range";
            return false;
        }

        record.Timeout = (TimeoutClass)timeout;
        record.QueuedClass = (TimeoutClass)queued;
        record.Nat = (NatAction)nat;
        record.PolicyName = policyLength == 0 ? null : Encoding.UTF8.GetString(policyName);
        if (record.Nat != NatAction.None)
        {
            record.HasReplyKey = true;
            if (!reader.TryKey(out record.ReplyKey) || !reader.TryByte(out byte elsewhere) || elsewhere > 1)
            {
                error = "truncated or malformed reply tuple";
                return false;
            }

            record.ReplyClaimedElsewhere = elsewhere == 1;
        }

        return true;
    }

    private static string? ClockError(long? clockMs) =>
        clockMs is < 0 or > MaxTransferClockMs ? $"owner's clock {clockMs} ms out of range (0..{MaxTransferClockMs})" : null;

    /// <summary>Why a connection's expiry times cannot be on <paramref name="clockMs"/> (a reservation has none), or null.</summary>
    private static string? ExpiryError(in TransferRecord record, long? clockMs)
    {
        if (clockMs is not { } clock || record.IsReservation)
        {
            return null;
        }

        long expiry = Math.Max(record.Expiration, record.QueuedExpiration);
        return expiry <= clock + ConntrackTimeouts.MaxTimeoutMs ? null : $"expiry {expiry} ms is past the owner's clock {clock} ms plus the longest timeout";
    }

    private void Restore(in TransferRecord record)
    {
        // Both slots before any reference into the array: taking the second may grow it.
        int slot = Allocate();
        int alias = record.HasReplyKey ? Allocate() : -1;
        ref var entry = ref _entries[slot];
        entry = default;
        entry.Key = record.Key;
        entry.Hash = ConntrackInputParser.ShardHashOf(in record.Key);
        entry.InUse = true;
        entry.Link = -1;
        entry.Mark = record.Mark;
        entry.Label = record.Label;
        entry.Orig = record.Orig;
        entry.Reply = record.Reply;
        entry.L4State = record.L4State;
        entry.Policy = RestoredPolicy(record.PolicyName);
        LinkBucket(slot);
        if (alias >= 0)
        {
            LinkReplyKey(slot, alias, in record.ReplyKey, record.Nat == NatAction.Source ? NatKind.Source : NatKind.Destination, record.ReplyClaimedElsewhere);
        }

        Count++;
        _zoneCounts[record.Key.Zone]++;

        // Appended in the exporter's list order, so each list stays ordered by queued expiry.
        Enqueue(slot, record.QueuedClass, record.QueuedExpiration);
        entry = ref _entries[slot];
        entry.Timeout = record.Timeout;
        entry.Expiration = record.Expiration;
    }

    /// <summary>The policy slot of a moved connection: its named policy here, else the defaults (counted as an unknown policy).</summary>
    private byte RestoredPolicy(string? name)
    {
        if (name is null)
        {
            return 0;
        }

        if (_policyByName.TryGetValue(name, out byte slot))
        {
            return slot;
        }

        Stats.Record(ConntrackCounter.UnknownTimeoutPolicy);
        return 0;
    }

    private int WriteConnection(int slot, Span<byte> destination)
    {
        ref var entry = ref _entries[slot];
        var writer = new TransferWriter(destination);
        writer.Byte(ConnectionTag);
        writer.Key(in entry.Key);
        writer.UInt32(entry.Mark);
        writer.UInt128(entry.Label);
        writer.Int64(entry.Expiration);
        writer.Int64(entry.QueuedExpiration);
        writer.Byte((byte)entry.Timeout);
        writer.Byte((byte)entry.QueuedClass);
        writer.Byte(entry.L4State);
        writer.Peer(in entry.Orig);
        writer.Peer(in entry.Reply);
        string? policy = PolicyName(entry.Policy);
        int nameLength = policy is null ? 0 : Encoding.UTF8.GetByteCount(policy);
        if (nameLength > MaxPolicyNameBytes)
        {
            // Not expected (names are configuration); the connection moves under the defaults.
            policy = null;
            nameLength = 0;
        }

        writer.Byte((byte)nameLength);
        writer.Utf8(policy);
        bool translated = entry.Nat != NatAction.None && entry.Link >= 0;
        writer.Byte(translated ? (byte)entry.Nat : (byte)NatAction.None);
        if (translated)
        {
            writer.Key(in _entries[entry.Link].Key);
            writer.Byte(_entries[entry.Link].ClaimedElsewhere ? (byte)1 : (byte)0);
        }

        return writer.Written;
    }

    private static int WriteReservation(in ConntrackKey reply, in ConntrackKey original, Span<byte> destination)
    {
        var writer = new TransferWriter(destination);
        writer.Byte(ReservationTag);
        writer.Key(in reply);
        writer.Key(in original);
        return writer.Written;
    }

    /// <summary>
    /// A table being written out in chunks: connections in expiry-list order, then reply tuples reserved
    /// for other tables. Each chunk holds whole records and is at most the size asked for.
    /// </summary>
    public sealed class TableExport
    {
        private readonly ConnectionTable _table;
        private readonly List<KeyValuePair<ConntrackKey, ConntrackKey>> _reservations;
        private int _list;
        private int _slot = -1;
        private int _reservation;

        internal TableExport(ConnectionTable table)
        {
            _table = table;
            _reservations = [.. table._remoteOwners];
            Connections = table.Count;
        }

        /// <summary>Connections in the table when the export began.</summary>
        public int Connections { get; }

        /// <summary>Reply tuples reserved here for other tables' connections.</summary>
        public int Reservations => _reservations.Count;

        public bool Done { get; private set; }

        /// <summary>
        /// The next chunk, at most <paramref name="maxBytes"/> long (at least <see cref="TransferHeaderBytes"/>
        /// + <see cref="MaxTransferRecordBytes"/>); false once everything was written.
        /// </summary>
        public bool TryNextChunk(int maxBytes, out byte[] chunk, out int connections)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, TransferHeaderBytes + MaxTransferRecordBytes);
            chunk = [];
            connections = 0;
            if (Done)
            {
                return false;
            }

            var buffer = new byte[maxBytes];
            int offset = TransferHeaderBytes;
            int records = 0;
            while (records < ushort.MaxValue && maxBytes - offset >= MaxTransferRecordBytes)
            {
                if (NextSlot() is int slot and >= 0)
                {
                    offset += _table.WriteConnection(slot, buffer.AsSpan(offset));
                    connections++;
                }
                else if (_reservation < _reservations.Count)
                {
                    var (reply, original) = _reservations[_reservation++];
                    offset += WriteReservation(in reply, in original, buffer.AsSpan(offset));
                }
                else
                {
                    Done = true;
                    break;
                }

                records++;
            }

            if (!Done && NextIsEnd())
            {
                Done = true;
            }

            var body = buffer.AsSpan(TransferHeaderBytes, offset - TransferHeaderBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, TransferMagic);
            buffer[4] = TransferVersion;
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(6), (ushort)records);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), (uint)body.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), Crc32.HashToUInt32(body));
            chunk = buffer.AsSpan(0, offset).ToArray();
            return true;
        }

        private bool NextIsEnd()
        {
            if (_reservation < _reservations.Count)
            {
                return false;
            }

            int list = _list;
            int slot = _slot;
            return Advance(ref list, ref slot) < 0;
        }

        /// <summary>The next connection in expiry-list order, or -1 when every list is done.</summary>
        private int NextSlot() => Advance(ref _list, ref _slot);

        /// <summary>Steps from <paramref name="slot"/> (-1: before the head) of list <paramref name="list"/> to the next connection.</summary>
        private int Advance(ref int list, ref int slot)
        {
            var heads = _table._expiryHead;
            while (list < heads.Length)
            {
                int next = slot < 0 ? heads[list] : _table._entries[slot].ExpiryNext;
                if (next >= 0)
                {
                    slot = next;
                    return next;
                }

                list++;
                slot = -1;
            }

            return -1;
        }
    }

    private struct TransferRecord
    {
        public bool IsReservation;
        public bool HasReplyKey;
        public bool ReplyClaimedElsewhere;
        public ConntrackKey Key;
        public ConntrackKey ReplyKey;
        public uint Mark;
        public UInt128 Label;
        public long Expiration;
        public long QueuedExpiration;
        public TimeoutClass Timeout;
        public TimeoutClass QueuedClass;
        public byte L4State;
        public TcpPeer Orig;
        public TcpPeer Reply;
        public NatAction Nat;
        public string? PolicyName;
    }

    private ref struct TransferWriter(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Written { get; private set; }

        public void Byte(byte value) => _destination[Written++] = value;

        public void UInt32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_destination[Written..], value);
            Written += 4;
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_destination[Written..], value);
            Written += 8;
        }

        public void UInt128(UInt128 value)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(_destination[Written..], value);
            Written += 16;
        }

        public void Key(in ConntrackKey key)
        {
            UInt128(key.Src);
            UInt128(key.Dst);
            BinaryPrimitives.WriteUInt16LittleEndian(_destination[Written..], key.SrcPort);
            BinaryPrimitives.WriteUInt16LittleEndian(_destination[(Written + 2)..], key.DstPort);
            Written += 4;
            Byte(key.SrcIcmpType);
            Byte(key.DstIcmpType);
            Byte(key.Protocol);
            Byte(key.IsIpv6 ? (byte)1 : (byte)0);
            BinaryPrimitives.WriteUInt16LittleEndian(_destination[Written..], key.Zone);
            Written += 2;
        }

        public void Peer(in TcpPeer peer)
        {
            UInt32(peer.SeqLo);
            UInt32(peer.SeqHi);
            BinaryPrimitives.WriteUInt16LittleEndian(_destination[Written..], peer.MaxWin);
            Written += 2;
            Byte(peer.WScale);
            Byte((byte)peer.State);
        }

        public void Utf8(string? text)
        {
            if (text is not null)
            {
                Written += Encoding.UTF8.GetBytes(text, _destination[Written..]);
            }
        }
    }

    private ref struct TransferReader(ReadOnlySpan<byte> source)
    {
        private readonly ReadOnlySpan<byte> _source = source;
        private int _offset;

        public readonly bool AtEnd => _offset == _source.Length;

        public readonly bool TryPeekByte(out byte value)
        {
            value = _offset < _source.Length ? _source[_offset] : (byte)0;
            return _offset < _source.Length;
        }

        public bool TryByte(out byte value)
        {
            value = 0;
            if (_offset >= _source.Length)
            {
                return false;
            }

            value = _source[_offset++];
            return true;
        }

        public bool TryBytes(int count, out ReadOnlySpan<byte> value)
        {
            value = default;
            if (_source.Length - _offset < count)
            {
                return false;
            }

            value = _source.Slice(_offset, count);
            _offset += count;
            return true;
        }

        public bool TryUInt16(out ushort value)
        {
            value = 0;
            if (!TryBytes(2, out var bytes))
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
            return true;
        }

        public bool TryUInt32(out uint value)
        {
            value = 0;
            if (!TryBytes(4, out var bytes))
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            return true;
        }

        public bool TryInt64(out long value)
        {
            value = 0;
            if (!TryBytes(8, out var bytes))
            {
                return false;
            }

            value = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            return true;
        }

        public bool TryUInt128(out UInt128 value)
        {
            value = 0;
            if (!TryBytes(16, out var bytes))
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt128LittleEndian(bytes);
            return true;
        }

        public bool TryKey(out ConntrackKey key)
        {
            key = default;
            if (!TryUInt128(out key.Src) || !TryUInt128(out key.Dst) || !TryUInt16(out key.SrcPort) || !TryUInt16(out key.DstPort)
                || !TryByte(out key.SrcIcmpType) || !TryByte(out key.DstIcmpType) || !TryByte(out key.Protocol)
                || !TryByte(out byte ipv6) || ipv6 > 1 || !TryUInt16(out key.Zone))
            {
                return false;
            }

            key.IsIpv6 = ipv6 == 1;
            const ulong low32 = uint.MaxValue;
            return key.IsIpv6 || (key.Src <= low32 && key.Dst <= low32);
        }

        public bool TryPeer(out TcpPeer peer)
        {
            peer = default;
            if (!TryUInt32(out peer.SeqLo) || !TryUInt32(out peer.SeqHi) || !TryUInt16(out peer.MaxWin)
                || !TryByte(out peer.WScale) || !TryByte(out byte state))
            {
                return false;
            }

            peer.State = (TcpState)state;
            return true;
        }
    }
}

/// <summary>What <see cref="ConnectionTable.Import"/> did with a chunk: added its connections and reservations, or nothing (<see cref="Error"/> says why).</summary>
public readonly record struct TransferImportResult(bool Ok, int Connections, int Reservations, string? Error)
{
    public static TransferImportResult Failed(string error) => new(false, 0, 0, error);
}
