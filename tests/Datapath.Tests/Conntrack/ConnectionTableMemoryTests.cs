using Datapath.Actions;
using Datapath.Conntrack;
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
        var table = new ConnectionTable();
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
}

/// <summary>Tests that measure the whole process's heap: never run beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "memory measurement";
}
