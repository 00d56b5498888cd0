using System.Runtime.CompilerServices;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// What a connection costs in each state: one slot of the table (ConnectionEntry) and its share of
/// the bucket array, whatever the state, so a closed TCP connection waiting out tcp-close (30 s, as
/// in Open vSwitch) costs what an established one does, and less than Open vSwitch's own entry
/// (struct conn with its three conn_keys plus conn_tcp: about 260 bytes before malloc's overhead).
/// Measured on the whole heap with the table's growth slack, so the budget allows for it.
/// </summary>
[Collection(MemoryMeasurement.Name)]
public class ConnectionStateMemoryTests
{
    private const int Connections = 100_000;
    private const ushort Client = 40000;
    private const ushort Server = 8080;
    private static readonly ConntrackArgs Commit = new() { Commit = true };

    public static TheoryData<string> States() => new() { "tcp SYN_SENT", "tcp ESTABLISHED", "tcp CLOSING", "tcp TIME_WAIT (closed)", "tcp TIME_WAIT (reset)", "udp first", "udp both ways", "icmp reply" };

    [Fact]
    public void A_slot_is_144_bytes()
    {
        Assert.Equal(144, Unsafe.SizeOf<ConnectionEntry>());
    }

    [Theory]
    [MemberData(nameof(States))]
    public void A_connection_costs_one_slot_in_every_state(string state)
    {
        var packets = Packets(state);

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        for (int i = 0; i < Connections; i++)
        {
            foreach (var (input, reply) in packets)
            {
                var moved = input;
                uint host = 0x0A00_0000u | (uint)i;
                if (reply)
                {
                    moved.Key.Dst = host;
                }
                else
                {
                    moved.Key.Src = host;
                }

                moved.ShardHash = ConntrackInputParser.ShardHashOf(in moved.Key);
                table.Execute(in moved, in Commit, 1_000);
            }
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(Connections, table.Count);
        Assert.All(table.Snapshot().Take(3), e => Assert.Contains(StateText(state), Datapath.Conntrack.ConntrackFormatter.FormatEntry(e), StringComparison.Ordinal));

        // 131,072 slots of 144 bytes and as many buckets of 4 for 100,000 connections: 194 bytes each.
        Assert.InRange((after - before) / (double)Connections, 144, 200);
        GC.KeepAlive(table);
    }

    private static string StateText(string state) => state switch
    {
        "tcp SYN_SENT" => "state=SYN_SENT",
        "tcp ESTABLISHED" => "state=ESTABLISHED",
        "tcp CLOSING" => "state=CLOSING",
        _ when state.StartsWith("tcp TIME_WAIT", StringComparison.Ordinal) => "state=TIME_WAIT",
        "icmp reply" => "icmp,",
        _ => "udp,",
    };

    /// <summary>The packets that bring one connection into <paramref name="state"/> (with whether each is a reply).</summary>
    private static List<(ConntrackInput Input, bool Reply)> Packets(string state)
    {
        const uint c = 1000, s = 5000;
        var handshake = new List<(ConntrackInput, bool)>
        {
            (Parse(Frame.Ip(H1, H2).Tcp(Client, Server, Syn, c, 0).Build()), false),
            (Parse(Frame.Ip(H2, H1).Tcp(Server, Client, Syn | Ack, s, c + 1).Build()), true),
            (Parse(Frame.Ip(H1, H2).Tcp(Client, Server, Ack, c + 1, s + 1).Build()), false),
        };
        return state switch
        {
            "tcp SYN_SENT" => handshake.Take(1).ToList(),
            "tcp ESTABLISHED" => handshake,
            "tcp CLOSING" => [.. handshake, (Parse(Frame.Ip(H1, H2).Tcp(Client, Server, Fin | Ack, c + 1, s + 1).Build()), false)],
            "tcp TIME_WAIT (closed)" =>
            [
                .. handshake,
                (Parse(Frame.Ip(H1, H2).Tcp(Client, Server, Fin | Ack, c + 1, s + 1).Build()), false),
                (Parse(Frame.Ip(H2, H1).Tcp(Server, Client, Fin | Ack, s + 1, c + 2).Build()), true),
                (Parse(Frame.Ip(H1, H2).Tcp(Client, Server, Ack, c + 2, s + 2).Build()), false),
            ],
            "tcp TIME_WAIT (reset)" => [.. handshake, (Parse(Frame.Ip(H2, H1).Tcp(Server, Client, Rst | Ack, s + 1, c + 1).Build()), true)],
            "udp first" => [(Parse(Frame.Ip(H1, H2).Udp(Client, 53).Payload(12).Build()), false)],
            "udp both ways" => [(Parse(Frame.Ip(H1, H2).Udp(Client, 53).Payload(12).Build()), false), (Parse(Frame.Ip(H2, H1).Udp(53, Client).Payload(12).Build()), true)],
            "icmp reply" => [(Parse(Frame.Ip(H1, H2).IcmpEcho(8, 7).Build()), false), (Parse(Frame.Ip(H2, H1).IcmpEcho(0, 7).Build()), true)],
            _ => throw new ArgumentException(state, nameof(state)),
        };
    }
}
