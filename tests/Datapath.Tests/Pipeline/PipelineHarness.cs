using System.Buffers.Binary;
using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Stats;
using Datapath.Tests.Actions;

namespace Datapath.Tests.Pipeline;

/// <summary>One frame of a test batch: its bytes and the metadata it arrives with.</summary>
internal readonly record struct TestPacket(byte[] Frame, uint InPort = 1, uint RecircId = 0);

/// <summary>
/// A pipeline with everything around it an owner provides: packet and batch pools, the scripted
/// slow path, and a sink that returns what it is given. Packets are rented from the pool, so a
/// leak shows as a pool that does not fill up again.
/// </summary>
internal sealed class PipelineHarness
{
    public const int PoolSize = 2 * PacketBatch.MaxSize;

    private readonly PacketBatch _input = new();
    private SinkContext _context;

    public PipelineHarness(ExactMatchCache? emc, in FlowKey mask, ActionList? actions = null)
    {
        Batches = new PacketBatchPool();
        Upcall = new ScriptedUpcall(in mask, actions ?? new ActionList([DatapathAction.Output(2)]));
        Sink = new PipelineSink(Packets, Batches);
        _context = new SinkContext(Sink);
        Pipeline = new PmdPipeline(emc, new MegaflowClassifier(), Upcall, Batches);
    }

    public PacketPool Packets { get; } = new(PoolSize);

    public PacketBatchPool Batches { get; }

    public ScriptedUpcall Upcall { get; }

    public PipelineSink Sink { get; }

    public PmdPipeline Pipeline { get; }

    public PmdStats Stats => Pipeline.Stats;

    /// <summary>The owner's clock passed to the next batch.</summary>
    public long NowMs { get; set; }

    /// <summary>Receives <paramref name="frames"/> on port 1 as one batch.</summary>
    public void Process(params byte[][] frames)
    {
        foreach (byte[] frame in frames)
        {
            _input.Add(Rent(frame, 1, 0));
        }

        Run();
    }

    public void Process(params TestPacket[] packets)
    {
        foreach (TestPacket p in packets)
        {
            _input.Add(Rent(p.Frame, p.InPort, p.RecircId));
        }

        Run();
    }

    /// <summary>The only installed megaflow (fails the test if there is not exactly one).</summary>
    public Megaflow SingleMegaflow()
    {
        Megaflow? found = null;
        foreach (Megaflow flow in Pipeline.Classifier.Flows)
        {
            Assert.Null(found);
            found = flow;
        }

        Assert.NotNull(found);
        return found;
    }

    private void Run()
    {
        Pipeline.Process(_input, NowMs, ref _context);

        // Checked without Assert on the way, so that the allocation test measures the pipeline alone.
        if (_input.Count != 0)
        {
            Assert.Fail("The pipeline must leave its input batch empty.");
        }
    }

    private Packet Rent(byte[] frame, uint inPort, uint recircId)
    {
        if (!Packets.TryRent(out Packet packet))
        {
            Assert.Fail("The test pool ran dry: the pipeline leaks packets.");
        }

        packet.SetFrame(frame, inPort);
        packet.Metadata.RecircId = recircId;
        return packet;
    }
}

/// <summary>
/// UDP and TCP frames for pipeline tests. Each UDP frame carries a 4-byte sequence number as its
/// payload, so the order in which frames leave can be read back from the output copies.
/// </summary>
internal static class PipelineFrames
{
    private const int UdpSourcePortOffset = 14 + 20;
    private const int UdpPayloadOffset = 14 + 20 + 8;

    public static byte[] Udp(ushort sourcePort, int sequence = 0, ushort destinationPort = 53)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, sequence);
        return TestFrames.Ipv4Udp(sport: sourcePort, dport: destinationPort, payload: payload).Build();
    }

    public static int SequenceOf(byte[] frame) => BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(UdpPayloadOffset));

    public static ushort SourcePortOf(byte[] frame) => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(UdpSourcePortOffset));

    /// <summary>A TCP segment with exactly <paramref name="flags"/> set.</summary>
    public static byte[] Tcp(byte flags, ushort sourcePort = 40000) => TestFrames.Ipv4Tcp(sport: sourcePort, flags: flags).Build();
}
