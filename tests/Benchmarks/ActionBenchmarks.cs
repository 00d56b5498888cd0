using System.Buffers.Binary;
using Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Datapath.Actions;
using Datapath.Packets;
using TestSupport.Frames;

namespace Benchmarks;

/// <summary>
/// <see cref="ActionExecutor.Execute{TContext}"/> of one action list on a batch of 32 TCP/IPv4 packets
/// of 64 bytes (32 flows). The context counts without transmitting and leaves the batch with its
/// owner, so the same batch is executed again. Set-field lists alternate between two values from one
/// invocation to the next, so every packet really changes every time (a rewrite to the value already
/// there would skip the checksum work). Times are per packet.
/// </summary>
[MemoryDiagnoser]
public class ActionBenchmarks
{
    private static readonly UInt128 Ipv4Mask = uint.MaxValue;
    private static readonly UInt128 PortMask = ushort.MaxValue;

    private readonly PacketBatch _batch = new();
    private readonly ExecutionStats _stats = new();
    private readonly ActionList _output = new([DatapathAction.Output(Workload.OutPort)]);
    private readonly ActionList _ipv4SrcA = SetOnly(SetFieldTarget.Ipv4Src, 0x0A09_0001, Ipv4Mask);
    private readonly ActionList _ipv4SrcB = SetOnly(SetFieldTarget.Ipv4Src, 0x0A09_0002, Ipv4Mask);
    private readonly ActionList _tcpSrcA = SetOnly(SetFieldTarget.TpSrc, 40000, PortMask);
    private readonly ActionList _tcpSrcB = SetOnly(SetFieldTarget.TpSrc, 40001, PortMask);
    private BenchContext _ctx;
    private bool _flipAddress;
    private bool _flipPort;

    [GlobalSetup]
    public void Setup()
    {
        foreach (Packet packet in Workload.Packets(Workload.Frames(Workload.Tcp4Frame)))
        {
            _batch.Add(packet);
        }

        _ctx = new BenchContext(null, null);
        OutputOnePort();
        Check.That(_ctx.Outputs == Workload.Batch && _batch.Count == Workload.Batch, "output sends every packet and the batch stays full");

        for (int round = 0; round < 3; round++)
        {
            uint sourceBefore = BinaryPrimitives.ReadUInt32BigEndian(_batch[0].Data[26..]);
            ushort portBefore = BinaryPrimitives.ReadUInt16BigEndian(_batch[0].Data[34..]);
            SetIpv4Source();
            SetTcpSourcePort();
            Check.That(BinaryPrimitives.ReadUInt32BigEndian(_batch[0].Data[26..]) != sourceBefore, "every IPv4 rewrite changes the address");
            Check.That(BinaryPrimitives.ReadUInt16BigEndian(_batch[0].Data[34..]) != portBefore, "every port rewrite changes the port");
            foreach (Packet packet in _batch.Packets)
            {
                Check.That(InternetChecksum.IsIpv4HeaderValid(packet.Data), "IPv4 header checksum stays valid");
                Check.That(InternetChecksum.IsIpv4TransportValid(packet.Data), "TCP checksum stays valid");
            }
        }

        Check.That(_stats.SetFieldSkipped == 0 && _ctx.Unexpected == 0, "set-field applies to every packet");
    }

    /// <summary>output:2.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public long OutputOnePort()
    {
        ActionExecutor.Execute(_batch, _output, 0, ref _ctx, _stats);
        return _ctx.Outputs;
    }

    /// <summary>set(ipv4(src=...)): address, IP header checksum and TCP checksum (pseudo-header) updated.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public long SetIpv4Source()
    {
        _flipAddress = !_flipAddress;
        ActionExecutor.Execute(_batch, _flipAddress ? _ipv4SrcA : _ipv4SrcB, 0, ref _ctx, _stats);
        return _ctx.Released;
    }

    /// <summary>set(tcp(src=...)): port and TCP checksum updated.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public long SetTcpSourcePort()
    {
        _flipPort = !_flipPort;
        ActionExecutor.Execute(_batch, _flipPort ? _tcpSrcA : _tcpSrcB, 0, ref _ctx, _stats);
        return _ctx.Released;
    }

    private static ActionList SetOnly(SetFieldTarget target, UInt128 value, UInt128 mask) =>
        new([DatapathAction.SetField(new SetFieldArgs(target, value, mask))]);
}
