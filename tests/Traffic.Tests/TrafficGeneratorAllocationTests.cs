using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

public class TrafficGeneratorAllocationTests
{
    [Fact]
    public void Fill_and_OnTransmitted_allocate_nothing_in_steady_state()
    {
        var profile = Defaults.TrafficProfile with
        {
            Connections = 500,
            RequestsPerConnection = 2,
            ServerInitiatedPercent = 20,
            ResetPercent = 10,
            ConnectionTimeout = TimeSpan.FromMilliseconds(1),
            FrameSize = TrafficWire.EveryLength,
        };
        var generator = new TrafficGenerator(profile, 5);
        var pool = new PacketPool(64);
        var batch = new PacketBatch();
        long now = 0;
        long dropped = 0;

        // Every 7th frame is dropped, so timeouts and replacements run too.
        void Steps(int count)
        {
            for (int i = 0; i < count; i++)
            {
                for (uint port = 1; port <= 2; port++)
                {
                    generator.Fill(port, batch, pool, now);
                    foreach (var packet in batch.Packets)
                    {
                        if (++dropped % 7 != 0)
                        {
                            generator.OnTransmitted(3 - port, packet, now);
                        }
                    }

                    pool.Return(batch);
                }

                now += 10_000;
            }
        }

        Steps(3000);
        long completedBefore = generator.Stats.TotalCompleted;
        long timedOutBefore = generator.Stats.TotalTimedOut;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Steps(3000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(generator.Stats.TotalCompleted > completedBefore + 1000);
        Assert.True(generator.Stats.TotalTimedOut > timedOutBefore + 100);
    }
}
