using Datapath.Actions;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;

namespace Datapath.Conntrack;

/// <summary>
/// Runs a capture through conntrack alone, as Open vSwitch's `ovstest test-conntrack pcap FILE
/// BATCH` does (tests/test-conntrack.c): every frame in zone 0 with commit, in batches of
/// <c>BATCH</c> frames that share one clock reading, and one ct_state per frame.
///
/// IP fragments follow this product's rule, not test-conntrack's: they are held by an
/// <see cref="IpReassembler"/>, conntrack sees the whole datagram, and every fragment of it is
/// reported with the datagram's state (test-conntrack reports 0 for the held ones and inv|trk for
/// the datagram). A fragment that never completes a datagram (dropped, expired, or still held
/// at the end) is reported as 0: conntrack never saw it. Results are reported in frame order.
/// </summary>
public sealed class ConntrackReplay
{
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    private readonly ConnectionTable _table;
    private readonly IpReassembler _reassembler;
    private readonly Func<long> _clock;
    private readonly ExtractionStats _extraction = new();

    /// <param name="clock">Milliseconds read once per batch (OVS time_msec()); the table's expiry runs on it.</param>
    public ConntrackReplay(Func<long> clock, ConnectionTable table, IpReassembler? reassembler = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _reassembler = reassembler ?? new IpReassembler();
    }

    public ConnectionTable Table => _table;

    public IpReassembler Reassembler => _reassembler;

    /// <summary>
    /// Replays every record of <paramref name="reader"/>; <paramref name="report"/> gets each frame's
    /// 1-based number and state, in frame order.
    /// </summary>
    public void Run(PcapReader reader, int batchSize, Action<long, CtState> report)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, PacketBatch.MaxSize);

        var pending = new SortedDictionary<long, CtState?>();
        var numbers = new Dictionary<Packet, long>(ReferenceEqualityComparer.Instance);
        var dropped = new List<Packet>();
        long nextToReport = 1;
        var batch = new List<(Packet Packet, long Number)>(batchSize);
        bool more = true;
        while (more)
        {
            batch.Clear();
            while (batch.Count < batchSize && (more = reader.TryReadNext(out var header)))
            {
                var packet = new Packet(Math.Max(Packet.DefaultCapacity, header.CapturedLength + Packet.DefaultHeadroom));
                packet.SetFrame(reader.CurrentFrame, 0);
                batch.Add((packet, header.RecordNumber));
            }

            long now = _clock();
            foreach (var (packet, number) in batch)
            {
                pending[number] = null;
                numbers[packet] = number;
                Process(packet, now, pending, numbers);
            }

            dropped.Clear();
            _reassembler.Expire(now, dropped);
            Resolve(dropped, CtState.None, pending, numbers);
            nextToReport = Flush(pending, nextToReport, report);
        }

        dropped.Clear();
        _reassembler.Clear(dropped);
        Resolve(dropped, CtState.None, pending, numbers);
        Flush(pending, nextToReport, report);
    }

    private void Process(Packet packet, long now, SortedDictionary<long, CtState?> pending, Dictionary<Packet, long> numbers)
    {
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, _extraction);
        switch (_reassembler.Offer(packet, in key, Commit.Zone, now, out var datagram))
        {
            case FragmentVerdict.Held:
                return;
            case FragmentVerdict.Dropped:
                Resolve([packet], CtState.None, pending, numbers);
                Resolve(_reassembler.DroppedWithDatagram, CtState.None, pending, numbers);
                _reassembler.DroppedWithDatagram.Clear();
                return;
            case FragmentVerdict.Completed:
                var whole = datagram!.Datagram;
                var wholeKey = default(FlowKey);
                FlowExtractor.Extract(whole, ref wholeKey, _extraction);
                var state = Track(whole, in wholeKey, now);
                Resolve(datagram.Fragments, state, pending, numbers);
                _reassembler.Release(datagram);
                return;
            default:
                pending[numbers[packet]] = Track(packet, in key, now);
                numbers.Remove(packet);
                return;
        }
    }

    private CtState Track(Packet packet, in FlowKey key, long now)
    {
        ConntrackInput.TryParse(packet, in key, Commit.Zone, out var input);
        return _table.Execute(in input, in Commit, now).State;
    }

    private static void Resolve(IReadOnlyList<Packet> packets, CtState state, SortedDictionary<long, CtState?> pending, Dictionary<Packet, long> numbers)
    {
        foreach (var packet in packets)
        {
            if (numbers.Remove(packet, out long number))
            {
                pending[number] = state;
            }
        }
    }

    private static long Flush(SortedDictionary<long, CtState?> pending, long next, Action<long, CtState> report)
    {
        while (pending.TryGetValue(next, out var state) && state is not null)
        {
            report(next, state.Value);
            pending.Remove(next);
            next++;
        }

        return next;
    }
}
