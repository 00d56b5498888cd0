using Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Datapath.Flow;
using Datapath.Packets;

namespace Benchmarks;

/// <summary>
/// Flow-key extraction (<see cref="FlowExtractor.Extract(Packet, ref FlowKey, ExtractionStats)"/>, the
/// miniflow_extract analogue) of one batch of 32 distinct flows per invocation; times are per packet.
/// </summary>
[MemoryDiagnoser]
public class ExtractionBenchmarks
{
    private readonly FlowKey[] _keys = new FlowKey[Workload.Batch];
    private readonly ExtractionStats _stats = new();
    private Packet[] _udp4 = [];
    private Packet[] _tcp4 = [];
    private Packet[] _tcp6 = [];

    [GlobalSetup]
    public void Setup()
    {
        _udp4 = Workload.Packets(Workload.Frames(Workload.Udp4Frame));
        _tcp4 = Workload.Packets(Workload.Frames(Workload.Tcp4Frame));
        _tcp6 = Workload.Packets(Workload.Frames(Workload.Tcp6Frame));
        Check.That(ExtractAll(_tcp6) != 0 && _keys[0].IsIpv6 && _keys[0].NwProto == IpProtocols.Tcp, "IPv6 frames extract as TCP/IPv6");
        Check.That(_stats.Total == 0, "extraction of the workload stops nowhere");
    }

    /// <summary>64-byte UDP/IPv4 frames.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public ulong Udp4() => ExtractAll(_udp4);

    /// <summary>64-byte TCP/IPv4 frames.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public ulong Tcp4() => ExtractAll(_tcp4);

    /// <summary>78-byte TCP/IPv6 frames.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public ulong Tcp6() => ExtractAll(_tcp6);

    private ulong ExtractAll(Packet[] packets)
    {
        FlowKey[] keys = _keys;
        for (int i = 0; i < packets.Length; i++)
        {
            FlowExtractor.Extract(packets[i], ref keys[i], _stats);
        }

        return keys[^1][13];
    }
}
