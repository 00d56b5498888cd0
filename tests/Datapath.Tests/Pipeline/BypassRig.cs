using Datapath.Bypass;
using Datapath.Conntrack;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Stats;
using Datapath.Tests.OpenFlow;
using Datapath.Tests.Support;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// The same flow table on several <see cref="InlineDatapath"/>s that differ only in the
/// recirculation bypass mode (off, per-connection, emc-only, megaflow). Every frame goes through every lane at
/// the same virtual time; each call asserts that the lanes agree on every packet's verdict (ports
/// and bytes sent), so a scenario only has to say what happens, and the rig says whether the bypass
/// changed it.
/// </summary>
internal sealed class BypassRig
{
    private readonly List<Lane> _lanes = [];

    public BypassRig(string? flows = null, bool withEmcOnly = true, PmdCoreOptions? options = null)
    {
        var modes = withEmcOnly
            ? new[] { BypassMode.Off, BypassMode.PerConnection, BypassMode.EmcOnly, BypassMode.Megaflow }
            : new[] { BypassMode.Off, BypassMode.PerConnection, BypassMode.Megaflow };
        foreach (var mode in modes)
        {
            _lanes.Add(new Lane(mode, flows ?? Firewall.Text, options ?? Defaults.PmdCoreOptions));
        }
    }

    public Lane Off => _lanes[0];

    public Lane On => _lanes[1];

    public IReadOnlyList<Lane> Lanes => _lanes;

    /// <summary>Every lane but the one without bypass.</summary>
    public IEnumerable<Lane> BypassLanes => _lanes.Skip(1);

    /// <summary>The lanes that keep one bypass flow per connection direction (and revoke it when conntrack says so).</summary>
    public IEnumerable<Lane> PerConnectionLanes => BypassLanes.Where(l => l.Mode != BypassMode.Megaflow);

    /// <summary>Runs one frame through every lane; returns its verdict (`OUT_PORTS` or `drop`) after asserting that all lanes agree.</summary>
    public string Send(byte[] frame, uint port, long nowMs) => SendBatch([(frame, port)], nowMs)[0];

    /// <summary>Runs the frames as one batch through every lane; returns one verdict per frame after asserting that all lanes agree.</summary>
    public IReadOnlyList<string> SendBatch(IReadOnlyList<(byte[] Frame, uint Port)> frames, long nowMs)
    {
        var reference = Off.Process(frames, nowMs);
        foreach (var lane in BypassLanes)
        {
            var verdicts = lane.Process(frames, nowMs);
            for (int i = 0; i < frames.Count; i++)
            {
                if (reference[i] != verdicts[i])
                {
                    Assert.Fail($"Packet {i} of the batch at {nowMs} ms (in_port {frames[i].Port}): bypass off gives '{Ports(reference[i])}', {lane.Mode} gives '{Ports(verdicts[i])}'.\n"
                        + $"Batch:\n{Describe(frames, reference, verdicts)}");
                }
            }
        }

        return reference.Select(Ports).ToList();
    }

    /// <summary>Changes every lane's OpenFlow tables the same way, then revalidates each datapath at <paramref name="nowMs"/>.</summary>
    public void ChangeTables(Action<OpenFlowTables> change, long nowMs)
    {
        foreach (var lane in _lanes)
        {
            change(lane.Tables);
            lane.Datapath.Core.Revalidate(lane.Revalidator, nowMs);
        }
    }

    public void FlushConntrack()
    {
        var flushed = _lanes.Select(l => l.Datapath.FlushConntrack()).Distinct().ToList();
        Assert.Single(flushed);
    }

    /// <summary>Sweeps every lane's connection table at <paramref name="nowMs"/>; returns how many connections expired (the same in every lane).</summary>
    public int SweepConntrack(long nowMs)
    {
        var expired = _lanes.Select(l => l.Datapath.SweepConntrack(nowMs)).Distinct().ToList();
        return Assert.Single(expired);
    }

    /// <summary>
    /// Pushes every lane's megaflow statistics to its rules and asserts that the rules read the
    /// same everywhere (and that some rule counted something, so the comparison means something).
    /// </summary>
    public void AssertSameRuleStatistics()
    {
        var reference = Off.RuleStatistics();
        Assert.Contains(reference, line => !line.EndsWith(" n_packets=0 n_bytes=0", StringComparison.Ordinal));
        foreach (var lane in BypassLanes)
        {
            Assert.Equal(reference, lane.RuleStatistics());
        }
    }

    /// <summary>Asserts that every bypass lane hit bypass flows (so the test did not pass with the bypass idle).</summary>
    public void AssertBypassTookPart()
    {
        Assert.Equal(0, Off.Stats.BypassHits + Off.Stats.BypassInstalls);
        foreach (var lane in BypassLanes)
        {
            Assert.True(lane.Stats.BypassInstalls > 0, $"{lane.Mode}: no bypass flow was installed.");
            Assert.True(lane.Stats.BypassHits > 0, $"{lane.Mode}: no packet hit a bypass flow.");
        }
    }

    /// <summary>One line per frame: in_port, protocol, ports, TCP flags, seq and ack, and both lanes' verdicts.</summary>
    private static string Describe(IReadOnlyList<(byte[] Frame, uint Port)> frames, List<string> off, List<string> on)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < frames.Count; i++)
        {
            var f = frames[i].Frame;
            int l4 = 14 + ((f[14] & 0x0f) * 4);
            string ports = $"{System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l4))}->{System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l4 + 2))}";
            string l4Text = f[23] == 6
                ? $"tcp {ports} flags=0x{f[l4 + 13]:x2} seq={System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(l4 + 4))} ack={System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(l4 + 8))}"
                : $"udp {ports}";
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"  {i}: in_port={frames[i].Port} {l4Text} len={f.Length}: off {Ports(off[i])}, on {Ports(on[i])}\n");
        }

        return sb.ToString();
    }

    private static string Ports(string verdict) =>
        verdict == "drop" ? verdict : string.Join(',', verdict.Split(',').Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)]));

    internal sealed class Lane
    {
        private readonly PacketBatch _batch = new();
        private readonly Sink _sink = new();

        public Lane(BypassMode mode, string flows, PmdCoreOptions options)
        {
            Mode = mode;
            Tables = new OpenFlowTables(new ManualClock());
            Tables.AddFlows(flows, "bypass.flows");
            var translator = new Translator(Tables, new RecircRegistry(), [1, 2]);
            Datapath = new InlineDatapath(translator, options with { Bypass = mode }, new ConnectionTable(Defaults.ConntrackOptions));
            Revalidator = new TranslationRevalidator(translator);
        }

        public BypassMode Mode { get; }

        public OpenFlowTables Tables { get; }

        public InlineDatapath Datapath { get; }

        public TranslationRevalidator Revalidator { get; }

        public PmdStats Stats => Datapath.Core.Pipeline.Stats;

        /// <summary>One verdict per frame: `PORT:BYTES` per transmission, comma-separated, or `drop`.</summary>
        public List<string> Process(IReadOnlyList<(byte[] Frame, uint Port)> frames, long nowMs)
        {
            var received = new List<Packet>();
            foreach (var (frame, port) in frames)
            {
                Assert.True(Datapath.TryReceive(frame, port, out var packet));
                received.Add(packet);
                _batch.Add(packet);
            }

            _sink.Sent.Clear();
            Datapath.Process(_batch, nowMs, _sink);

            // A packet is the same object from its port to its output (no action here copies it).
            var verdicts = new List<string>();
            foreach (var packet in received)
            {
                var sent = _sink.Sent.Where(s => ReferenceEquals(s.Packet, packet)).Select(s => s.Text).ToList();
                verdicts.Add(sent.Count == 0 ? "drop" : string.Join(',', sent));
            }

            Assert.Equal(_sink.Sent.Count, _sink.Sent.Count(s => received.Any(r => ReferenceEquals(r, s.Packet))));
            return verdicts;
        }

        /// <summary>Each rule with its counters after a statistics push, in table order.</summary>
        public List<string> RuleStatistics()
        {
            Datapath.Core.PushStatistics(Revalidator);
            return Tables.AllRules().Select(r => $"{r.Entry} n_packets={r.Packets} n_bytes={r.Bytes}").ToList();
        }

        private sealed class Sink : IPacketSink
        {
            public List<(Packet Packet, string Text)> Sent { get; } = [];

            public void Transmit(uint port, Packet packet) =>
                Sent.Add((packet, $"{port}:{Convert.ToHexString(packet.Data)}"));
        }
    }
}
