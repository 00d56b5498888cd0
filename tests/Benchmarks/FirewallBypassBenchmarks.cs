using Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Datapath.Bypass;
using Datapath.Conntrack;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Tests.Support;
using Traffic;

namespace Benchmarks;

/// <summary>
/// The packet work of one PMD without actors: an <see cref="InlineDatapath"/> (conntrack answered
/// in place) running the firewall of DESIGN.md (the embedded hocon/firewall.flows) on
/// <see cref="Connections"/> established bidirectional UDP connections, 64-byte frames, with the
/// recirculation bypass in each <see cref="BypassMode"/>. Each invocation receives one
/// batch of 32 frames into packets of the datapath's pool (a receive's rent and copy) and processes
/// it to the end; the sink counts and keeps nothing, so the packets go back to the pool. Frames
/// alternate directions and go round-robin over the connections, so from 32 connections up every
/// packet of a batch belongs to a different connection, as a NIC would deliver them. Setup
/// establishes every connection (handshake through the datapath) and warms the caches, then checks
/// the steady state: every packet forwarded, no upcall, and every packet either takes a bypass
/// flow or recirculates (off). Times are per packet.
/// </summary>
[MemoryDiagnoser]
public class FirewallBypassBenchmarks
{
    // Virtual time stands still: nothing expires while the benchmark runs.
    private const long NowMs = 1000;

    private readonly PacketBatch _input = new();
    private readonly CountingSink _sink = new();
    private InlineDatapath _datapath = null!;

    // Connection directions up to which the EMC (8192 entries, two ways per hash) held every
    // bypass flow when this benchmark was written: beyond it some packets recirculate.
    private const int EmcHoldsAll = 200;

    // Frame j of the set is _frames[j * _frameLength ..], received on _ports[j & 1].
    private byte[] _frames = [];
    private int _frameLength;
    private int _frameCount;
    private int _next;

    [Params(1, 100, 10_000, 1_000_000)]
    public int Connections { get; set; }

    [Params(BypassMode.Off, BypassMode.PerConnection, BypassMode.EmcOnly, BypassMode.Megaflow)]
    public BypassMode Mode { get; set; }

    /// <summary>Packets per invocation (one batch).</summary>
    public static int BatchSize => Workload.Batch;

    [GlobalSetup]
    public void Setup()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(FirewallFlows(), "firewall.flows");
        var translator = new Translator(tables, new RecircRegistry(), [EstablishedStreams.ClientPort, EstablishedStreams.ServerPort]);
        var options = Defaults.PmdCoreOptions with { Bypass = Mode };
        Check.That(options.MaxBypassFlows >= 2 * Connections, "the bypass flow table holds both directions of every connection");
        var conntrack = new ConnectionTable(Defaults.ConntrackOptions with { InitialCapacity = Connections });
        _datapath = new InlineDatapath(translator, options, conntrack);

        var streams = new EstablishedStreams(TrafficProtocol.Udp, Connections);
        Establish(streams);
        BuildFrames(streams);

        // Every connection direction once through the slow pass (bypass installs), then enough
        // batches for the EMC's probabilistic insertion to settle.
        int cycle = (_frameCount + BatchSize - 1) / BatchSize;
        for (int i = 0, warm = Math.Max(2 * cycle, 2_000); i < warm; i++)
        {
            Process();
        }

        CheckSteadyState(cycle);
    }

    /// <summary>Receive and process one batch of 32 frames.</summary>
    [Benchmark(OperationsPerInvoke = Workload.Batch)]
    public long Process()
    {
        var frames = _frames;
        int length = _frameLength;
        int next = _next;
        for (int i = 0; i < BatchSize; i++)
        {
            _datapath.TryReceive(frames.AsSpan(next * length, length), Port(next), out var packet);
            _input.Add(packet);
            if (++next == _frameCount)
            {
                next = 0;
            }
        }

        _next = next;
        _datapath.Process(_input, NowMs, _sink);
        return _sink.Transmitted;
    }

    private static uint Port(int frame) => (frame & 1) == 0 ? EstablishedStreams.ClientPort : EstablishedStreams.ServerPort;

    private static string FirewallFlows()
    {
        using var stream = typeof(FirewallBypassBenchmarks).Assembly.GetManifestResourceStream("firewall.flows");
        Check.That(stream is not null, "hocon/firewall.flows is embedded");
        using var reader = new StreamReader(stream!);
        return reader.ReadToEnd();
    }

    /// <summary>Runs every handshake step for every connection through the datapath, a batch at a time.</summary>
    private void Establish(EstablishedStreams streams)
    {
        var scratch = new Packet();
        for (int step = 0; step < streams.HandshakeSteps; step++)
        {
            uint port = EstablishedStreams.HandshakePort(step);
            for (int c = 0; c < Connections; c++)
            {
                streams.WriteHandshake(step, c, scratch);
                Check.That(_datapath.TryReceive(scratch.Data, port, out var packet), "the pool has packets for the handshake");
                _input.Add(packet);
                if (_input.Count == BatchSize || c == Connections - 1)
                {
                    _datapath.Process(_input, NowMs, _sink);
                }
            }
        }

        Check.That(_sink.Transmitted == (long)streams.HandshakeSteps * Connections && _sink.Misrouted == 0, "every handshake frame is forwarded to its peer");
        Check.That(_datapath.Conntrack.Count == Connections, "conntrack holds every connection");
    }

    /// <summary>
    /// Frame j goes from the client (j even) or the server (j odd); the client frames run over the
    /// connections in order, the server frames likewise, half the connections further on, so each
    /// connection sends both ways once per pass and neighbouring frames are different connections.
    /// </summary>
    private void BuildFrames(EstablishedStreams streams)
    {
        Span<byte> frame = stackalloc byte[FrameSizeRange.Minimum];
        _frameLength = streams.PeekData(EstablishedStreams.ClientPort, 0, frame);
        _frameCount = 2 * Connections;
        _frames = new byte[(long)_frameCount * _frameLength <= Array.MaxLength ? _frameCount * _frameLength : throw new InvalidOperationException("too many frames")];
        for (int j = 0; j < _frameCount; j++)
        {
            int connection = ((j >> 1) + ((j & 1) * (Connections / 2))) % Connections;
            int length = streams.PeekData(Port(j), connection, _frames.AsSpan(j * _frameLength, _frameLength));
            Check.That(length == _frameLength, "every data frame has the same length");
        }
    }

    private void CheckSteadyState(int cycle)
    {
        var stats = _datapath.Core.Pipeline.Stats;
        long transmitted = _sink.Transmitted;
        long upcalls = stats.UpcallsOk + stats.UpcallsFailed;
        long bypassHits = stats.BypassHits;
        long recirculations = stats.Recirculations;
        long received = stats.PacketsReceived;
        int invocations = 0;

        // One batch alone, then a whole pass over the frames.
        Process();
        invocations++;
        if (Mode is BypassMode.PerConnection or BypassMode.Megaflow)
        {
            Check.That(stats.BypassHits - bypassHits == BatchSize, "with the bypass on every packet of a batch takes a bypass flow");
        }

        for (; invocations < cycle; invocations++)
        {
            Process();
        }

        long packets = (long)invocations * BatchSize;
        long hits = stats.BypassHits - bypassHits;
        long recirculated = stats.Recirculations - recirculations;
        Check.That(stats.PacketsReceived - received == packets, "every packet is received");
        Check.That(_sink.Transmitted - transmitted == packets && _sink.Misrouted == 0, "every packet is forwarded to its peer");
        Check.That(stats.UpcallsOk + stats.UpcallsFailed == upcalls, "no upcall in steady state");
        Check.That(_datapath.Core.OutstandingConntrack == 0 && _datapath.Core.PacketsInFlight == 0, "no packet waits for conntrack after a batch");
        Check.That(hits + recirculated == packets, "every packet takes a bypass flow or recirculates once");
        switch (Mode)
        {
            case BypassMode.Off:
                Check.That(hits == 0, "with the bypass off every packet recirculates");
                break;
            case BypassMode.PerConnection or BypassMode.Megaflow:
                Check.That(hits == packets, "with the bypass on every packet takes a bypass flow");
                break;
            default:
                // Bypass flows in the EMC alone: what the EMC holds takes one, the rest recirculates.
                Check.That(hits == packets || 2 * Connections > EmcHoldsAll, "with bypass flows in the EMC only, every packet takes one while the EMC holds them all");
                Console.WriteLine($"// {nameof(FirewallBypassBenchmarks)} EmcOnly, {Connections} connections: {100.0 * hits / packets:F1}% of packets take a bypass flow");
                break;
        }
    }

    /// <summary>Counts what the datapath transmits and whether it went to the sender's peer; keeps no packet.</summary>
    private sealed class CountingSink : IPacketSink
    {
        public long Transmitted;
        public long Misrouted;

        public void Transmit(uint port, Packet packet)
        {
            Transmitted++;
            if (port != EstablishedStreams.PeerOf(packet.Metadata.InPort))
            {
                Misrouted++;
            }
        }
    }
}
