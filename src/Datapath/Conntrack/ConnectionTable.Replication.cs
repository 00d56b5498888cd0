using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Datapath.Conntrack;

/// <summary>
/// Keeping a copy of the table elsewhere (a conntrack shard's replica on another node, as conntrackd's
/// FT-FW mode keeps one on its peer). The owner turns on change tracking, sends a full copy once
/// (<see cref="BeginReplicaSeed"/>), then drains what changed since the last drain as delta chunks
/// (<see cref="DrainChanges"/>) once per replication interval: a connection that changed any number
/// of times costs one record per interval, never one per packet. The copy applies both with
/// <see cref="ApplyReplica"/>, which replaces rather than refuses a tuple it already holds.
///
/// Tracking costs the packet path one bit test per packet (<see cref="NoteChanged"/>); a changed slot
/// is listed once per interval. The records are the hand-off's (<see cref="BeginExport"/>), plus a
/// removal (a connection's key) and a reservation's end. A delta is written removals first, then
/// reservation changes in the order they happened, then the current state of every changed
/// connection, so applying it in that order gives the owner's table whatever happened in between (a
/// slot freed and taken again, a tuple removed and created again).
/// </summary>
public sealed partial class ConnectionTable
{
    /// <summary>Bytes of a removal record: its tag and the connection's key.</summary>
    public const int RemovalRecordBytes = 1 + KeyBytes;

    /// <summary>Bytes of a plain connection's record (no translation, no named timeout policy): what a changed connection costs a delta.</summary>
    public const int PlainConnectionRecordBytes = ConnectionRecordBytes + 1;

    private const uint DeltaMagic = 0x3144_5443; // "CTD1"
    private const byte RemovalTag = 3;
    private const byte ReleaseTag = 4;

    // Past this many removals or reservation changes waiting (an owner that stopped draining), the
    // lists are dropped and the copy must be seeded again rather than memory grow without bound.
    private const int MaxPendingChangeRecords = 1 << 20;

    private readonly List<ConntrackKey> _removedSinceDrain = [];
    private readonly List<(bool Reserved, ConntrackKey Reply, ConntrackKey Original)> _reservationChanges = [];
    private bool _trackingChanges;
    private ulong[] _changedBits = [];
    private int[] _changedSlots = [];
    private int _changedCount;

    /// <summary>Whether changes are being tracked for a replica.</summary>
    public bool TracksChanges => _trackingChanges;

    /// <summary>Changed connections, removals and reservation changes waiting for <see cref="DrainChanges"/>.</summary>
    public int PendingChanges => _changedCount + _removedSinceDrain.Count + _reservationChanges.Count;

    /// <summary>The changes waiting outgrew their bound (nobody drained them): a delta cannot say them, the copy needs a new seed.</summary>
    public bool ChangesOverflowed { get; private set; }

    /// <summary>Stops tracking and forgets the changes waiting (the replica is gone).</summary>
    public void StopTrackingChanges()
    {
        DiscardChanges();
        _trackingChanges = false;
    }

    /// <summary>
    /// Starts a full copy: tracking starts (or starts over) now, and the seed reads every slot in
    /// order, in chunks, while the table goes on changing. A connection changed behind the seed's cursor
    /// is in the next delta; one ahead of it is read as it is then. So seed chunks followed by the
    /// deltas drained from now on give the copy this table.
    /// </summary>
    public ReplicaSeed BeginReplicaSeed()
    {
        DiscardChanges();
        _trackingChanges = true;
        return new ReplicaSeed(this);
    }

    /// <summary>
    /// Writes what changed since the last drain (or the seed's start) as delta chunks of at most
    /// <paramref name="maxBytes"/> each into <paramref name="chunks"/>, and forgets it.
    /// </summary>
    /// <returns>The records written.</returns>
    public int DrainChanges(int maxBytes, List<byte[]> chunks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, TransferHeaderBytes + MaxTransferRecordBytes);
        ArgumentNullException.ThrowIfNull(chunks);
        var writer = new ChunkWriter(DeltaMagic, maxBytes, chunks);
        foreach (var key in _removedSinceDrain)
        {
            var span = writer.Reserve(RemovalRecordBytes);
            var record = new TransferWriter(span);
            record.Byte(RemovalTag);
            record.Key(in key);
            writer.Commit(record.Written);
        }

        foreach (var (reserved, reply, original) in _reservationChanges)
        {
            var span = writer.Reserve(1 + (2 * KeyBytes));
            int written = WriteReservation(in reply, in original, span);
            if (!reserved)
            {
                span[0] = ReleaseTag;
            }

            writer.Commit(written);
        }

        for (int i = 0; i < _changedCount; i++)
        {
            int slot = _changedSlots[i];
            _changedBits[slot >> 6] &= ~(1UL << slot);
            ref var entry = ref _entries[slot];
            if (entry.InUse && entry.Kind == EntryKind.Connection)
            {
                writer.Commit(WriteConnection(slot, writer.Reserve(MaxTransferRecordBytes)));
            }
        }

        _changedCount = 0;
        _removedSinceDrain.Clear();
        _reservationChanges.Clear();
        ChangesOverflowed = false;
        return writer.Finish();
    }

    /// <summary>
    /// Applies a seed or delta chunk of another table's (<see cref="BeginReplicaSeed"/>, <see cref="DrainChanges"/>)
    /// to this copy. Checked whole first, as <see cref="Import"/> checks: on any error nothing
    /// changes and the error says why. A tuple the copy holds already is replaced by the record's
    /// (whatever held it), a removal or release of a tuple it does not hold changes nothing.
    /// <paramref name="belongs"/>, when given, must accept the symmetric hash of every tuple the
    /// copy would index. Nothing is counted, notified or queued for release: the copy only mirrors.
    /// <paramref name="clockMs"/>, when given, bounds the records' expiry times as <see cref="Import"/>'s does.
    /// </summary>
    public TransferImportResult ApplyReplica(ReadOnlySpan<byte> chunk, Func<uint, bool>? belongs = null, long? clockMs = null)
    {
        if (ClockError(clockMs) is { } clockError)
        {
            return TransferImportResult.Failed(clockError);
        }

        if (!TryReadChunkBody(chunk, DeltaMagic, out var body, out int records, out string? headerError))
        {
            return TransferImportResult.Failed(headerError!);
        }

        var parsed = new List<(byte Tag, TransferRecord Record)>(records);
        var reader = new TransferReader(body);
        for (int i = 0; i < records; i++)
        {
            if (!reader.TryPeekByte(out byte tag))
            {
                return TransferImportResult.Failed($"record {i}: truncated");
            }

            TransferRecord record = default;
            string? error = null;
            bool ok = tag is RemovalTag or ReleaseTag
                ? TryReadRemoval(ref reader, tag, out record, out error)
                : TryReadRecord(ref reader, out record, out error);
            if (!ok)
            {
                return TransferImportResult.Failed($"record {i}: {error}");
            }

            if (ExpiryError(in record, clockMs) is { } expiryError)
            {
                return TransferImportResult.Failed($"record {i}: {expiryError}");
            }

            bool indexedHere = belongs is null
                || (belongs(ConntrackInputParser.ShardHashOf(in record.Key))
                    && (!record.HasReplyKey || record.IsReservation || tag == ReleaseTag || record.ReplyClaimedElsewhere
                        || belongs(ConntrackInputParser.ShardHashOf(in record.ReplyKey))));
            if (!indexedHere)
            {
                return TransferImportResult.Failed($"record {i}: a tuple that is not this shard's");
            }

            parsed.Add((tag, record));
        }

        if (!reader.AtEnd)
        {
            return TransferImportResult.Failed("bytes after the last record");
        }

        int connections = 0;
        int others = 0;
        foreach (var (tag, record) in parsed)
        {
            switch (tag)
            {
                case RemovalTag:
                    int slot = Lookup(in record.Key, ConntrackInputParser.ShardHashOf(in record.Key), long.MinValue, out bool reply);
                    if (slot >= 0 && !reply)
                    {
                        ForgetQuietly(slot);
                    }

                    others++;
                    break;

                case ReleaseTag:
                    ReleaseReplyTuple(in record.Key, in record.ReplyKey);
                    others++;
                    break;

                case ReservationTag:
                    ClearTuple(in record.Key);
                    Reserve(in record.Key, in record.ReplyKey);
                    others++;
                    break;

                default:
                    ClearTuple(in record.Key);
                    ClearTuple(record.HasReplyKey ? record.ReplyKey : record.Key.Reverse());
                    Restore(in record);
                    connections++;
                    break;
            }
        }

        return new TransferImportResult(true, connections, others, null);
    }

    /// <summary>A packet ran through <paramref name="slot"/>'s connection (created, updated, marked): its state goes in the next delta.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NoteChanged(int slot)
    {
        if (_trackingChanges)
        {
            ListChanged(slot);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ListChanged(int slot)
    {
        int word = slot >> 6;
        if (word >= _changedBits.Length)
        {
            Array.Resize(ref _changedBits, Math.Max(word + 1, _entries.Length >> 6));
        }

        ulong bit = 1UL << slot;
        if ((_changedBits[word] & bit) != 0)
        {
            return;
        }

        _changedBits[word] |= bit;
        if (_changedCount == _changedSlots.Length)
        {
            Array.Resize(ref _changedSlots, Math.Max(64, _changedCount * 2));
        }

        _changedSlots[_changedCount++] = slot;
    }

    /// <summary>A connection left the table: the copy removes it.</summary>
    private void NoteRemoved(in ConntrackKey key)
    {
        if (_trackingChanges && !Overflowed(_removedSinceDrain.Count))
        {
            _removedSinceDrain.Add(key);
        }
    }

    /// <summary>A reply tuple was reserved here for another table's connection, or its reservation ended.</summary>
    private void NoteReservation(bool reserved, in ConntrackKey reply, in ConntrackKey original)
    {
        if (_trackingChanges && !Overflowed(_reservationChanges.Count))
        {
            _reservationChanges.Add((reserved, reply, original));
        }
    }

    private bool Overflowed(int waiting)
    {
        if (waiting < MaxPendingChangeRecords)
        {
            return false;
        }

        ChangesOverflowed = true;
        return true;
    }

    private void DiscardChanges()
    {
        for (int i = 0; i < _changedCount; i++)
        {
            int slot = _changedSlots[i];
            _changedBits[slot >> 6] &= ~(1UL << slot);
        }

        _changedCount = 0;
        _removedSinceDrain.Clear();
        _reservationChanges.Clear();
        ChangesOverflowed = false;
    }

    /// <summary>Removes whatever holds <paramref name="key"/> here (a connection in either direction, a reply key, a reservation).</summary>
    private void ClearTuple(in ConntrackKey key)
    {
        uint hash = ConntrackInputParser.ShardHashOf(in key);
        while (true)
        {
            int slot = Lookup(in key, hash, long.MinValue, out _);
            if (slot == ElsewhereSlot)
            {
                ReleaseReplyTuple(in key);
            }
            else if (slot >= 0)
            {
                ForgetQuietly(slot);
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>Frees a connection and its reply key with nothing counted, notified or released: a copy that mirrors its owner.</summary>
    private void ForgetQuietly(int slot)
    {
        ref var entry = ref _entries[slot];
        UnlinkBucket(slot);
        UnlinkExpiry(slot);
        if (entry.Link >= 0)
        {
            UnlinkBucket(entry.Link);
            FreeSlot(entry.Link);
        }

        Count--;
        _zoneCounts[entry.Key.Zone]--;
        FreeSlot(slot);
    }

    private static bool TryReadRemoval(ref TransferReader reader, byte tag, out TransferRecord record, out string? error)
    {
        record = default;
        error = null;
        reader.TryByte(out _);
        if (!reader.TryKey(out record.Key) || (tag == ReleaseTag && !reader.TryKey(out record.ReplyKey)))
        {
            error = "truncated or malformed removal";
            return false;
        }

        record.HasReplyKey = tag == ReleaseTag;
        return true;
    }

    /// <summary>Checks a chunk's header and checksum: a table chunk, or one of <paramref name="otherMagic"/>.</summary>
    private static bool TryReadChunkBody(ReadOnlySpan<byte> chunk, uint otherMagic, out ReadOnlySpan<byte> body, out int records, out string? error)
    {
        body = default;
        records = 0;
        error = null;
        if (chunk.Length < TransferHeaderBytes)
        {
            error = "chunk shorter than its header";
            return false;
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(chunk);
        if (magic != TransferMagic && magic != otherMagic)
        {
            error = "not a conntrack table chunk (bad magic)";
            return false;
        }

        if (chunk[4] != TransferVersion)
        {
            error = $"chunk format version {chunk[4]}, this node reads {TransferVersion}";
            return false;
        }

        records = BinaryPrimitives.ReadUInt16LittleEndian(chunk[6..]);
        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(chunk[8..]);
        body = chunk[TransferHeaderBytes..];
        if (bodyLength != (uint)body.Length)
        {
            error = $"chunk body is {body.Length} bytes, its header says {bodyLength}";
            return false;
        }

        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(chunk[12..]))
        {
            error = "chunk checksum mismatch";
            return false;
        }

        return true;
    }

    /// <summary>
    /// A full copy of a table that goes on changing, read slot by slot (slots never move, so every
    /// connection that stays put is read exactly once); see <see cref="BeginReplicaSeed"/>.
    /// </summary>
    public sealed class ReplicaSeed
    {
        private readonly ConnectionTable _table;
        private int _slot;

        internal ReplicaSeed(ConnectionTable table) => _table = table;

        public bool Done { get; private set; }

        /// <summary>Connections written so far.</summary>
        public int Connections { get; private set; }

        /// <summary>The next chunk, at most <paramref name="maxBytes"/> long; false once every slot was read.</summary>
        public bool TryNextChunk(int maxBytes, out byte[] chunk)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, TransferHeaderBytes + MaxTransferRecordBytes);
            chunk = [];
            if (Done)
            {
                return false;
            }

            var chunks = new List<byte[]>(1);
            var writer = new ChunkWriter(TransferMagic, maxBytes, chunks, single: true);
            while (_slot < _table._highWater && writer.HasRoom)
            {
                int slot = _slot++;
                ref var entry = ref _table._entries[slot];
                if (!entry.InUse)
                {
                    continue;
                }

                if (entry.Kind == EntryKind.Connection)
                {
                    writer.Commit(_table.WriteConnection(slot, writer.Reserve(MaxTransferRecordBytes)));
                    Connections++;
                }
                else if (entry.Kind == EntryKind.RemoteReplyKey && _table._remoteOwners.TryGetValue(entry.Key, out var original))
                {
                    writer.Commit(WriteReservation(in entry.Key, in original, writer.Reserve(1 + (2 * KeyBytes))));
                }
            }

            Done = _slot >= _table._highWater;
            writer.Finish();
            chunk = chunks[0];
            return true;
        }
    }

    /// <summary>Fills chunks of whole records, each with its header (magic, version, record count, body length, CRC-32).</summary>
    private sealed class ChunkWriter(uint magic, int maxBytes, List<byte[]> chunks, bool single = false)
    {
        private byte[] _buffer = new byte[maxBytes];
        private int _offset = TransferHeaderBytes;
        private int _records;
        private int _total;

        /// <summary>Whether the current chunk takes one more record of any size (a single-chunk writer stops there).</summary>
        public bool HasRoom => _records < ushort.MaxValue && maxBytes - _offset >= MaxTransferRecordBytes;

        /// <summary>Room for a record of at most <paramref name="bytes"/>, in a new chunk when this one is full.</summary>
        public Span<byte> Reserve(int bytes)
        {
            if (_records == ushort.MaxValue || maxBytes - _offset < bytes)
            {
                if (single)
                {
                    throw new InvalidOperationException("the chunk is full");
                }

                Close();
                _buffer = new byte[maxBytes];
                _offset = TransferHeaderBytes;
                _records = 0;
            }

            return _buffer.AsSpan(_offset);
        }

        public void Commit(int written)
        {
            _offset += written;
            _records++;
            _total++;
        }

        /// <summary>Closes the last chunk (an empty one only for a single-chunk writer); returns the records written.</summary>
        public int Finish()
        {
            if (_records > 0 || single)
            {
                Close();
            }

            return _total;
        }

        private void Close()
        {
            var body = _buffer.AsSpan(TransferHeaderBytes, _offset - TransferHeaderBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer, magic);
            _buffer[4] = TransferVersion;
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(6), (ushort)_records);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(8), (uint)body.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(12), Crc32.HashToUInt32(body));
            chunks.Add(_buffer.AsSpan(0, _offset).ToArray());
        }
    }
}
