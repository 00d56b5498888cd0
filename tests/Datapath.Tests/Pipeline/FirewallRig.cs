using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Conntrack;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Stats;
using Datapath.Replay;
using Datapath.Tests.OpenFlow;
using Datapath.Tests.Support;

namespace Datapath.Tests.Pipeline;

/// <summary>One frame of a capture, with its replay port and its time in milliseconds.</summary>
internal sealed record CaptureFrame(long Number, uint Port, byte[] Bytes, long TimeMs)
{
    public static List<CaptureFrame> Read(string capture)
    {
        using var reader = PcapReader.Open(TestData.Capture(capture));
        var frames = new List<CaptureFrame>();
        while (reader.TryReadNext(out var header))
        {
            frames.Add(new CaptureFrame(header.RecordNumber, ReplayPorts.BySourceMac(reader.CurrentFrame), reader.CurrentFrame.ToArray(), header.TimestampNs / 1_000_000));
        }

        return frames;
    }
}

/// <summary>
/// The reference firewall on an <see cref="InlineDatapath"/> with a virtual clock, sending one frame
/// at a time and reporting where it went, plus the revalidator of its translator.
/// </summary>
internal sealed class FirewallRig
{
    private readonly RecordingSink _sink = new();
    private readonly PacketBatch _batch = new();

    public FirewallRig(int emcInsertInvProb = 1, long? idleMs = null)
    {
        Tables = new OpenFlowTables(Clock);
        Tables.AddFlows(Firewall.Text, "firewall.flows");
        Translator = new Translator(Tables, new RecircRegistry(), [1, 2]);
        var options = Defaults.PmdCoreOptions;
        Datapath = new InlineDatapath(Translator, options with { EmcInsertInvProb = emcInsertInvProb, MegaflowIdleMs = idleMs ?? options.MegaflowIdleMs }, new ConnectionTable(Defaults.ConntrackOptions));
        Revalidator = new TranslationRevalidator(Translator);
    }

    public ManualClock Clock { get; } = new();

    public OpenFlowTables Tables { get; }

    public Translator Translator { get; }

    public InlineDatapath Datapath { get; }

    public TranslationRevalidator Revalidator { get; }

    public MegaflowClassifier Classifier => Datapath.Core.Pipeline.Classifier;

    public RecircRegistry Recirc => Translator.Recirc;

    /// <summary>Runs one frame at its capture time; returns its verdict, `OUT_PORTS` or `drop`.</summary>
    public string Send(CaptureFrame frame) => Send(frame, frame.TimeMs);

    public string Send(CaptureFrame frame, long nowMs)
    {
        _sink.Ports.Clear();
        Assert.True(Datapath.TryReceive(frame.Bytes, frame.Port, out var packet));
        _batch.Add(packet);
        Datapath.Process(_batch, nowMs, _sink);
        return _sink.Ports.Count == 0 ? "drop" : string.Join(',', _sink.Ports);
    }

    public RevalidationResult Revalidate(long nowMs) => Datapath.Core.Revalidate(Revalidator, nowMs);

    public List<Megaflow> Megaflows()
    {
        var flows = new List<Megaflow>();
        foreach (var flow in Classifier.Flows)
        {
            flows.Add(flow);
        }

        return flows;
    }

    /// <summary>
    /// The registry's books balance: every allocated id is referenced exactly once per installed
    /// megaflow whose actions recirculate to it, and no other id is allocated.
    /// </summary>
    public void AssertRecircReferencesMatchInstalledFlows()
    {
        var holders = new Dictionary<uint, int>();
        foreach (var flow in Megaflows())
        {
            foreach (var action in flow.Actions.Actions.ToArray())
            {
                if (action.Kind == ActionKind.Recirculate)
                {
                    holders[action.RecircId] = holders.GetValueOrDefault(action.RecircId) + 1;
                }
            }
        }

        foreach (var (id, count) in holders)
        {
            Assert.Equal(count, Recirc.References(id));
        }

        Assert.Equal(holders.Count, Recirc.Count);
    }

    private sealed class RecordingSink : IPacketSink
    {
        public List<uint> Ports { get; } = [];

        public void Transmit(uint port, Packet packet) => Ports.Add(port);
    }
}

/// <summary>
/// The firewall with no cache at all: every frame goes through a fresh datapath (empty EMC and
/// classifier) sharing one conntrack table and one set of OpenFlow tables, so every frame is
/// translated against the tables as they are now. What a datapath without stale flows must do.
/// </summary>
internal sealed class UncachedFirewall
{
    private readonly ConnectionTable _conntrack = new(Defaults.ConntrackOptions);
    private readonly Translator _translator;

    public UncachedFirewall()
    {
        Tables = new OpenFlowTables(new ManualClock());
        Tables.AddFlows(Firewall.Text, "firewall.flows");
        _translator = new Translator(Tables, new RecircRegistry(), [1, 2]);
    }

    public OpenFlowTables Tables { get; }

    public string Send(CaptureFrame frame)
    {
        var datapath = new InlineDatapath(_translator, Defaults.PmdCoreOptions with { EmcEntries = 0, PacketPoolSize = 16 }, _conntrack);
        var sink = new PortsSink();
        Assert.True(datapath.TryReceive(frame.Bytes, frame.Port, out var packet));
        var batch = new PacketBatch();
        batch.Add(packet);
        datapath.Process(batch, frame.TimeMs, sink);
        return sink.Ports.Count == 0 ? "drop" : string.Join(',', sink.Ports);
    }

    private sealed class PortsSink : IPacketSink
    {
        public List<uint> Ports { get; } = [];

        public void Transmit(uint port, Packet packet) => Ports.Add(port);
    }
}
