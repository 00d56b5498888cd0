using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using TestSupport.Frames;

namespace Benchmarks;

/// <summary>
/// The workload of Open vSwitch's `ovstest test-conntrack benchmark 1 10000000 32`: one UDP
/// connection (10.1.1.1:1 -> 10.1.1.2:2, the same 42-byte frame test-conntrack builds), original
/// direction only, commit on every packet, batches of 32, through the library alone: parse each
/// packet into a ConntrackInput and execute it. OVS measures 64-79 ns per packet on a 2-vCPU VM.
/// </summary>
[MemoryDiagnoser]
public class ConntrackSingleConnectionBenchmark
{
    private const int Batch = 32;

    // tests/test-conntrack.c's payload: Ethernet, IPv4 10.1.1.1 -> 10.1.1.2, UDP 1 -> 2, checksum 0.
    private const string OvsBenchmarkFrame =
        "50540000000a50540000000908004500001c0000000000" + "11a4cd0a0101010a0101020001000200080000";

    private readonly Packet[] _packets = new Packet[Batch];
    private readonly FlowKey[] _keys = new FlowKey[Batch];
    private readonly ConntrackInput[] _inputs = new ConntrackInput[Batch];
    private readonly ConntrackResult[] _results = new ConntrackResult[Batch];
    private readonly ConntrackArgs _commit = new() { Commit = true };
    private ConnectionTable _table = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        byte[] frame = Convert.FromHexString(OvsBenchmarkFrame);
        var stats = new ExtractionStats();
        for (int i = 0; i < Batch; i++)
        {
            _packets[i] = new Packet();
            _packets[i].SetFrame(frame, 1);
            FlowExtractor.Extract(_packets[i], ref _keys[i], stats);
        }

        _table = new ConnectionTable(Defaults.ConntrackOptions);
    }

    /// <summary>One batch of 32: parse + execute each packet. Reported per packet.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public CtState ParseAndExecuteBatchOf32()
    {
        for (int i = 0; i < Batch; i++)
        {
            ConntrackInput.TryParse(_packets[i], in _keys[i], 0, out _inputs[i]);
        }

        _table.Execute(_inputs, in _commit, ++_now, _results);
        return _results[Batch - 1].State;
    }
}

/// <summary>
/// 1,000,000 established UDP connections in one table: ns per packet for packets that hit random
/// connections (cache-missing, as a busy shard would), and the memory one connection costs, measured
/// with GC.GetTotalMemory around filling the table and printed by the setup (goal: at most 256 bytes).
/// </summary>
[MemoryDiagnoser]
public class ConntrackMillionConnectionsBenchmark
{
    private const int Connections = 1_000_000;
    private const int Batch = 32;
    private const int Probes = 1 << 16;

    private readonly ConntrackArgs _commit = new() { Commit = true };
    private readonly ConntrackResult[] _results = new ConntrackResult[Batch];
    private ConnectionTable _table = null!;
    private ConntrackInput[] _probes = null!;
    private int _next;
    private long _now;

    /// <summary>Bytes per connection measured by the last setup.</summary>
    public static double BytesPerConnection { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var template = Template();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        _table = new ConnectionTable(Defaults.ConntrackOptions with { InitialCapacity = 1024 });
        for (int i = 0; i < Connections; i++)
        {
            var there = Connection(template, i);
            _table.Execute(in there, in _commit, 0);
            var back = there;
            back.Key = there.Key.Reverse();
            _table.Execute(in back, in _commit, 0);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        BytesPerConnection = (after - before) / (double)Connections;
        Console.WriteLine($"// conntrack: {_table.Count} connections, {BytesPerConnection:F1} bytes per connection, ConnectionEntry is {EntrySize()} bytes");

        var random = new Random(42);
        _probes = new ConntrackInput[Probes];
        for (int i = 0; i < Probes; i++)
        {
            _probes[i] = Connection(template, random.Next(Connections));
        }
    }

    /// <summary>32 packets of random established connections. Reported per packet.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public CtState RandomEstablishedBatchOf32()
    {
        int start = _next;
        _next = (_next + Batch) & (Probes - 1);
        _table.Execute(_probes.AsSpan(start, Batch), in _commit, ++_now, _results);
        return _results[Batch - 1].State;
    }

    private static ConntrackInput Template()
    {
        byte[] frame = Frame.Ipv4(0u, 0u).Udp(1, 2).Checksum(0).Build();
        ConntrackInputParser.TryParse(frame, 14, EtherTypes.Ipv4, default, 0, out var input);
        return input;
    }

    /// <summary>Connection <paramref name="i"/>: 10.x.y.z:port -> 172.16.0.1:80, unique per i.</summary>
    private static ConntrackInput Connection(ConntrackInput template, int i)
    {
        var input = template;
        input.Key.Src = 0x0A00_0000u | (uint)(i >> 4);
        input.Key.Dst = 0xAC10_0001u;
        input.Key.SrcPort = (ushort)(10_000 + (i & 15));
        input.Key.DstPort = 80;
        input.ShardHash = ConntrackInputParser.ShardHashOf(in input.Key);
        return input;
    }

    private static int EntrySize() => Unsafe.SizeOf<ConnectionEntry>();
}
