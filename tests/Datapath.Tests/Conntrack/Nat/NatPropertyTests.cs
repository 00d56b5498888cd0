using Datapath.Bypass;
using Datapath.Tests.Support;
using System.Net;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Pipeline;
using PacketDotNet;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// Random NAT'd connection mixes (seeded): TCP, UDP and ICMP echo over IPv4 and IPv6 from inside
/// hosts that share source ports, through SNAT without a range, SNAT into an address and port range,
/// and DNAT, interleaved. Every frame that leaves carries valid checksums (PacketDotNet); no two
/// connections of the zone share a translated tuple; an answer to the translated tuple comes back
/// as exactly the frame the inside host would get without NAT; and an ICMP error about a translated
/// packet comes back quoting exactly the packet the inside host sent.
/// </summary>
public sealed class NatPropertyTests
{
    private const string Flows = """
        table=0, priority=100, in_port=1, ip, actions=ct(table=1,zone=1,nat)
        table=0, priority=100, in_port=1, ipv6, actions=ct(table=1,zone=1,nat)
        table=0, priority=100, in_port=2, ip, actions=ct(table=2,zone=1,nat)
        table=0, priority=100, in_port=2, ipv6, actions=ct(table=2,zone=1,nat)
        table=1, priority=110, ct_state=+new+trk, ip, nw_src=10.1.0.0/16, actions=ct(commit,zone=1,nat(src=192.0.2.10-192.0.2.12:30000-30063)),output:2
        table=1, priority=100, ct_state=+new+trk, ip, actions=ct(commit,zone=1,nat(src=192.0.2.100)),output:2
        table=1, priority=100, ct_state=+new+trk, ipv6, actions=ct(commit,zone=1,nat(src=2001:db8::100)),output:2
        table=1, priority=90, ct_state=+est+trk, actions=output:2
        table=1, priority=90, ct_state=+rel+trk, actions=output:2
        table=2, priority=110, ct_state=+new+trk, tcp, nw_dst=192.0.2.200, tp_dst=8080, actions=ct(commit,zone=1,nat(dst=10.2.0.1:80)),output:1
        table=2, priority=90, ct_state=+est+trk, actions=output:1
        table=2, priority=90, ct_state=+rel+trk, actions=output:1
        table=2, priority=0, actions=drop
        """;

    public static TheoryData<int, string> Seeds()
    {
        var data = new TheoryData<int, string>();
        foreach (int seed in new[] { 1, 7, 42, 1234, 99991 })
        {
            data.Add(seed, "off");
        }

        data.Add(5, "megaflow");
        data.Add(6, "per-connection");
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_random_mix_translates_back_exactly_with_valid_checksums(int seed, string bypass)
    {
        var rig = new Rig(seed, bypass);
        var connections = rig.MakeConnections(160);
        var events = rig.Interleave(connections);
        int translated = 0;
        var tuples = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (connection, step) in events)
        {
            switch (step)
            {
                case Step.Request:
                    var leaving = rig.Send(connection.Request, inPort: connection.Inbound ? 2u : 1u, expectPort: connection.Inbound ? 1u : 2u);
                    if (leaving is null)
                    {
                        // Only an exhausted range may leave a connection untranslated; it is then still forwarded.
                        Assert.Fail($"seed {seed}: the request of {connection} was dropped");
                    }

                    NatChecksumAssert.AllValid(leaving);
                    connection.Translated = leaving;
                    Assert.True(SamePayload(connection.Request, leaving), $"{connection}: the payload changed");
                    if (!connection.Inbound && Endpoints(leaving).Src != Endpoints(connection.Request).Src)
                    {
                        translated++;
                        Assert.True(tuples.Add(Endpoints(leaving).ToString()), $"{connection}: translated tuple {Endpoints(leaving)} given twice");
                    }

                    break;

                case Step.Answer:
                    var answer = Frames.AnswerTo(connection.Translated!);
                    var back = rig.Send(answer, inPort: connection.Inbound ? 1u : 2u, expectPort: connection.Inbound ? 2u : 1u);
                    Assert.NotNull(back);
                    NatChecksumAssert.AllValid(back);
                    Assert.Equal(Convert.ToHexString(Frames.AnswerTo(connection.Request)), Convert.ToHexString(back));
                    break;

                case Step.Error:
                    var error = Frames.ErrorAbout(connection.Translated!, connection.QuoteLength);
                    var errorBack = rig.Send(error, inPort: connection.Inbound ? 1u : 2u, expectPort: connection.Inbound ? 2u : 1u);
                    Assert.NotNull(errorBack);
                    NatChecksumAssert.AllValid(errorBack);
                    Assert.Equal(Convert.ToHexString(Frames.Quote(connection.Request, connection.QuoteLength)), Convert.ToHexString(Frames.QuotedBytes(errorBack)));
                    break;
            }
        }

        Assert.True(translated > 100, $"seed {seed}: only {translated} connections were translated");
        Assert.Equal(0, rig.Exhausted);
    }

    private static bool SamePayload(byte[] a, byte[] b) => Frames.L4Payload(a).SequenceEqual(Frames.L4Payload(b));

    private static (IPAddress Src, int SrcPort, IPAddress Dst, int DstPort, int Proto) Endpoints(byte[] frame)
    {
        var ip = PdnPacket.ParsePacket(LinkLayers.Ethernet, frame).Extract<IPPacket>();
        int proto = (int)ip.Protocol;
        var (sp, dp) = ip.PayloadPacket switch
        {
            TcpPacket t => (t.SourcePort, t.DestinationPort),
            UdpPacket u => (u.SourcePort, u.DestinationPort),
            _ => (Frames.IcmpId(frame), 0),
        };
        return (ip.SourceAddress, sp, ip.DestinationAddress, dp, proto);
    }

    private enum Step
    {
        Request,
        Answer,
        Error,
    }

    private sealed class Connection(byte[] request, bool inbound, int quoteLength, string name)
    {
        public byte[] Request { get; } = request;

        public bool Inbound { get; } = inbound;

        public int QuoteLength { get; } = quoteLength;

        public byte[]? Translated { get; set; }

        public override string ToString() => name;
    }

    private sealed class Rig
    {
        private readonly Random _random;
        private readonly InlineDatapath _datapath;
        private readonly CaptureSink _sink = new();
        private long _nowMs = 1000;

        public Rig(int seed, string bypass)
        {
            _random = new Random(seed);
            var tables = new OpenFlowTables();
            tables.AddFlows(Flows, "nat-mix.flows");
            _datapath = new InlineDatapath(
                new Translator(tables, new RecircRegistry(), [1, 2]),
                Defaults.PmdCoreOptions with { Bypass = BypassModes.TryParse(bypass, out var mode) ? mode : throw new ArgumentException(bypass, nameof(bypass)) },
                new Datapath.Conntrack.ConnectionTable(Defaults.ConntrackOptions with { NatSeed = (uint)seed }));
        }

        public long Exhausted => _datapath.Conntrack.Stats[Datapath.Conntrack.ConntrackCounter.NatExhausted];

        public List<Connection> MakeConnections(int count)
        {
            var list = new List<Connection>();
            var usedIcmp = new HashSet<(string, int)>();
            ushort[] sharedPorts = [5000, 5001, 40000, 550, 511, 65535, 1023];
            for (int i = 0; i < count; i++)
            {
                int kind = _random.Next(10);
                string server = $"198.51.100.{1 + _random.Next(20)}";
                string server6 = $"2001:db8:1::{1 + _random.Next(20):x}";
                ushort sport = _random.Next(2) == 0 ? sharedPorts[_random.Next(sharedPorts.Length)] : (ushort)_random.Next(1024, 65536);
                ushort dport = (ushort)(_random.Next(3) == 0 ? 53 : _random.Next(1, 65536));
                int quote = _random.Next(2) == 0 ? 28 : 0;
                int payload = _random.Next(0, 200);
                byte[] frame;
                bool inbound = false;
                switch (kind)
                {
                    case 0 or 1:
                        frame = Frames.Udp($"10.0.0.{1 + _random.Next(30)}", server, sport, dport, payload, inside: true);
                        break;
                    case 2:
                        frame = Frames.Udp($"10.1.0.{1 + _random.Next(30)}", server, sport, dport, payload, inside: true);
                        break;
                    case 3 or 4:
                        frame = Frames.TcpSyn($"10.0.0.{1 + _random.Next(30)}", server, sport, (ushort)_random.Next(1, 65536), (uint)_random.Next(), payload, inside: true);
                        break;
                    case 5:
                        frame = Frames.TcpSyn($"10.1.0.{1 + _random.Next(30)}", server, sport, 443, (uint)_random.Next(), payload, inside: true);
                        break;
                    case 6:
                        frame = Frames.Udp($"fd00::{1 + _random.Next(30):x}", server6, sport, dport, payload, inside: true);
                        quote = 0;
                        break;
                    case 7:
                        frame = Frames.TcpSyn($"fd00::{1 + _random.Next(30):x}", server6, sport, 80, (uint)_random.Next(), payload, inside: true);
                        quote = 0;
                        break;
                    case 8:
                        {
                            // Open vSwitch 3.1 never moves an echo id: give each host and server its own id.
                            string host = $"10.0.0.{1 + _random.Next(30)}";
                            int id;
                            do
                            {
                                id = _random.Next(1, 65536);
                            }
                            while (!usedIcmp.Add((server, id)));
                            frame = Frames.Echo(host, server, (ushort)id, payload);
                            break;
                        }

                    default:
                        frame = Frames.TcpSyn($"203.0.113.{1 + _random.Next(30)}", "192.0.2.200", sport, 8080, (uint)_random.Next(), payload, inside: false);
                        inbound = true;
                        break;
                }

                list.Add(new Connection(frame, inbound, quote, $"connection {i} ({kind})"));
            }

            return list;
        }

        /// <summary>Each connection's request, answer and error, in random order across connections but in order within one.</summary>
        public List<(Connection, Step)> Interleave(List<Connection> connections)
        {
            var pending = connections.Select(c => (Connection: c, Next: 0)).ToList();
            var events = new List<(Connection, Step)>();
            while (pending.Count > 0)
            {
                int i = _random.Next(pending.Count);
                var (c, next) = pending[i];
                events.Add((c, (Step)next));
                if (next == 2)
                {
                    pending.RemoveAt(i);
                }
                else
                {
                    pending[i] = (c, next + 1);
                }
            }

            return events;
        }

        /// <summary>Runs one frame; returns what left <paramref name="expectPort"/> (null when nothing did).</summary>
        public byte[]? Send(byte[] frame, uint inPort, uint expectPort)
        {
            _sink.Sent.Clear();
            Assert.True(_datapath.TryReceive(frame, inPort, out var packet));
            var batch = new Datapath.Packets.PacketBatch();
            batch.Add(packet);
            _datapath.Process(batch, _nowMs++, _sink);
            if (_sink.Sent.Count == 0)
            {
                return null;
            }

            var (port, bytes) = Assert.Single(_sink.Sent);
            Assert.Equal(expectPort, port);
            return bytes;
        }
    }

    private sealed class CaptureSink : IPacketSink
    {
        public List<(uint Port, byte[] Frame)> Sent { get; } = [];

        public void Transmit(uint port, Datapath.Packets.Packet packet) => Sent.Add((port, packet.Data.ToArray()));
    }
}
