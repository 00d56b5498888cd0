using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// The memory budget of the issue: at most 256 bytes per established connection. The heap is
/// measured process-wide, so this class runs alone (its collection disables parallelization).
/// </summary>
[Collection(MemoryMeasurement.Name)]
public class ConnectionTableMemoryTests
{
    [Fact]
    public void An_established_connection_costs_at_most_256_bytes()
    {
        const int connections = 200_000;
        var template = Parse(Frame.Ip(H1, H2).Udp(1, 2).Build());
        var commit = new ConntrackArgs { Commit = true };

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        for (int i = 0; i < connections; i++)
        {
            var there = template;
            there.Key.Src = 0x0A00_0000u | (uint)i;
            there.ShardHash = ConntrackInputParser.ShardHashOf(in there.Key);
            var back = there;
            back.Key = there.Key.Reverse();
            table.Execute(in there, in commit, 0);
            table.Execute(in back, in commit, 0);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(connections, table.Count);
        Assert.InRange((after - before) / (double)connections, 1, 256);
        GC.KeepAlive(table);
    }

    /// <summary>A translated connection keeps its reply tuple in a second slot: at most twice the budget.</summary>
    [Fact]
    public void A_translated_connection_costs_at_most_two_slots()
    {
        const int connections = 100_000;
        var template = Parse(Frame.Ip(H1, H2).Udp(1, 2).Payload(12).Build());
        var snat = new ConntrackArgs
        {
            Commit = true,
            Nat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = 0xC000_0201, MaxAddress = 0xC000_02FF, MinPort = 1024, MaxPort = 65535 },
        };

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new ConnectionTable(Defaults.ConntrackOptions with { NatSeed = 1 });
        for (int i = 0; i < connections; i++)
        {
            var there = template;
            there.Key.Src = 0x0A00_0000u | (uint)i;
            there.ShardHash = ConntrackInputParser.ShardHashOf(in there.Key);
            table.Execute(in there, in snat, 0);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(connections, table.Count);
        Assert.Equal(0, table.Stats[ConntrackCounter.NatExhausted]);
        Assert.InRange((after - before) / (double)connections, 1, 512);
        GC.KeepAlive(table);
    }

    /// <summary>The packet path of translated connections allocates nothing once its tables are grown.</summary>
    [Fact]
    public void Translating_packets_of_known_connections_allocates_nothing()
    {
        var table = new ConnectionTable(Defaults.ConntrackOptions with { NatSeed = 1 });
        var snat = new ConntrackArgs { Commit = true, Nat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = 0xC000_0264, MaxAddress = 0xC000_0264 } };
        var existing = new ConntrackArgs { Nat = NatArgs.Existing };
        byte[] request = Frame.Ip(H1, "198.51.100.53").Udp(5000, 53).Payload(12).Build();
        byte[] answer = Frame.Ip("198.51.100.53", "192.0.2.100").Udp(53, 5000).Payload(12).Build();
        var requestInput = Parse(request);
        var answerInput = Parse(answer);
        var packet = new Datapath.Packets.Packet();
        table.Execute(in requestInput, in snat, 0);

        void Round()
        {
            var there = table.Execute(in requestInput, in existing, 1);
            packet.SetFrame(request, 1);
            packet.L3Offset = 14;
            packet.L4Offset = 34;
            there.ApplyTo(packet);
            var back = table.Execute(in answerInput, in existing, 1);
            packet.SetFrame(answer, 2);
            packet.L3Offset = 14;
            packet.L4Offset = 34;
            back.ApplyTo(packet);
        }

        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Round();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(table.Stats[ConntrackCounter.NatTranslated] >= 2002);
    }
}

/// <summary>Tests that measure the whole process's heap: never run beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "memory measurement";
}
