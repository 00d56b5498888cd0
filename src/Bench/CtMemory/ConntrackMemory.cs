using Actors.Conntrack;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Conntrack.Nat;
using Datapath.Packets;

namespace Bench.CtMemory;

/// <summary>One cell of <see cref="ConntrackMemory"/>: the heap the tables of <paramref name="Connections"/> established connections hold.</summary>
/// <param name="Cell">plain, snat (one table) or snat-2-shards (two tables, reply tuples reserved across them).</param>
/// <param name="HeapBytes">The managed heap after a full collection, minus the heap before the tables were made.</param>
/// <param name="ReservedElsewhere">Reply tuples that one table reserved for a connection the other owns.</param>
internal sealed record ConntrackMemoryResult(string Cell, int Connections, long HeapBytes, int ReservedElsewhere)
{
    public double BytesPerConnection => HeapBytes / (double)Connections;
}

/// <summary>
/// Bytes per connection of the connection table, measured rather than counted: N UDP connections
/// committed and answered (established), plain or with the SNAT of bench --nat snat
/// (nat(src=192.0.2.100), each client its own port, so the translation keeps it), in one table or
/// in two tables as two shards keep them (each connection owned where its original key hashes, its
/// reply tuple reserved in the other table when it hashes there). The figure is the managed heap's
/// growth after full collections, so it includes the slack of the table's power-of-two arrays;
/// <see cref="BytesPerSlot"/> gives the cost of one slot alone.
/// </summary>
internal static class ConntrackMemory
{
    public const string Plain = "plain";
    public const string Snat = "snat";
    public const string SnatTwoShards = "snat-2-shards";

    private const byte Udp = 17;
    private const uint FirstClient = 0x0A00_0001;
    private const uint FirstServer = 0xAC10_0001;
    private const ushort FirstClientPort = 10000;
    private const ushort ServerPort = 5000;

    /// <summary>Client ports per server: every connection has its own (server, client port), so no reply tuple collides.</summary>
    private const int PortsPerServer = 50_000;

    private static readonly ConntrackArgs Commit = new() { Commit = true };
    private static readonly ConntrackArgs CommitSnat = new()
    {
        Commit = true,
        Nat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = 0xC000_0264, MaxAddress = 0xC000_0264 },
    };

    private static readonly ConntrackArgs Existing = new() { Nat = NatArgs.Existing };

    public static IReadOnlyList<string> Cells { get; } = [Plain, Snat, SnatTwoShards];

    public static ConntrackMemoryResult Measure(string cell, int connections, ConntrackOptions options)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var tables = Fill(cell, connections, options);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        int count = tables.Sum(t => t.Count);
        if (count != connections)
        {
            throw new InvalidOperationException($"ct-memory: {cell} holds {count} connections, not {connections}");
        }

        var result = new ConntrackMemoryResult(cell, connections, after - before, tables.Sum(t => t.ReservedReplyTuples));
        GC.KeepAlive(tables);
        return result;
    }

    /// <summary>The heap of an empty table of <paramref name="capacity"/> slots (the arrays alone), per slot.</summary>
    public static double BytesPerSlot(int capacity, ConntrackOptions options)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new ConnectionTable(options with { InitialCapacity = capacity });
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(table);
        return (after - before) / (double)capacity;
    }

    private static ConnectionTable[] Fill(string cell, int connections, ConntrackOptions options)
    {
        var tables = cell == SnatTwoShards
            ? [new ConnectionTable(options with { NatSeed = 1 }), new ConnectionTable(options with { NatSeed = 2 })]
            : new[] { new ConnectionTable(options with { NatSeed = 1 }) };
        if (tables.Length > 1)
        {
            for (int i = 0; i < tables.Length; i++)
            {
                tables[i].ReplyTupleClaims = new TableClaims(tables, i);
            }
        }

        bool snat = cell != Plain;
        for (int i = 0; i < connections; i++)
        {
            var request = Input(FirstClient + (uint)i, FirstServer + (uint)(i / PortsPerServer), (ushort)(FirstClientPort + (i % PortsPerServer)), ServerPort);
            var sent = Execute(tables, in request, snat ? CommitSnat : Commit);
            if ((sent.State & CtState.New) == 0 || (snat && (sent.State & CtState.SrcNat) == 0))
            {
                throw new InvalidOperationException($"ct-memory: connection {i} was not created ({sent.State})");
            }

            // The server answers the address it saw: the translated one behind the NAT.
            var k = request.Key;
            var reply = Input(k.Dst, snat ? sent.Nat.Src : k.Src, k.DstPort, snat ? sent.Nat.SrcPort : k.SrcPort);
            var answered = Execute(tables, in reply, snat ? Existing : Commit);
            if ((answered.State & CtState.Established) == 0)
            {
                throw new InvalidOperationException($"ct-memory: the reply of connection {i} was not established ({answered.State})");
            }
        }

        return tables;
    }

    /// <summary>Runs one packet where a shard of its hash would (its owner when the tuple is reserved for another table's connection).</summary>
    private static ConntrackResult Execute(ConnectionTable[] tables, in ConntrackInput input, in ConntrackArgs args)
    {
        var result = tables[ConntrackShards.ShardOf(input.ShardHash, tables.Length)].Execute(in input, in args, 0);
        if (result.OwnedElsewhere)
        {
            var sentOn = input.SentOnTo(result.OwnerHash);
            result = tables[ConntrackShards.ShardOf(result.OwnerHash, tables.Length)].Execute(in sentOn, in args, 0);
        }

        return result;
    }

    private static ConntrackInput Input(UInt128 src, UInt128 dst, ushort srcPort, ushort dstPort)
    {
        var input = new ConntrackInput
        {
            Key = new ConntrackKey { Src = src, Dst = dst, SrcPort = srcPort, DstPort = dstPort, Protocol = Udp },
            PayloadLength = 18,
        };
        input.ShardHash = ConntrackInputParser.ShardHashOf(in input.Key);
        return input;
    }

    /// <summary>Two shards answering each other's claims in place (a PMD hosting both does the same; across PMDs the answer comes by message, and the memory is the same).</summary>
    private sealed class TableClaims(ConnectionTable[] tables, int self) : IReplyTupleClaims
    {
        public ReplyClaim TryClaim(in ConntrackKey reply, uint replyHash, in ConntrackKey original, long nowMs)
        {
            int target = ConntrackShards.ShardOf(replyHash, tables.Length);
            if (target == self)
            {
                return tables[self].TryClaim(in reply, replyHash, in original, nowMs);
            }

            return tables[target].TryReserveReplyTuple(in reply, in original, nowMs) ? ReplyClaim.ClaimedElsewhere : ReplyClaim.Taken;
        }
    }
}
