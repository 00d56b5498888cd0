using Actors.PacketPath;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>The port skeleton's transmit side and pool ownership, on a port of no traffic with a probe for the PMD.</summary>
public sealed class PortActorTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly ConcurrentBatchPool _batches = PathBatch.NewPool();

    public PortActorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    [Fact]
    public void A_transmitted_packet_goes_back_to_the_pool_it_came_from_whichever_port_owns_it()
    {
        var port = StreamPortActor.Start(Sys, new StreamPortSettings { TransmitPoolSize = 32, Window = Defaults.PortWindow }, [CreateTestProbe().Ref], _batches);
        var ownTransmit = port.Pools.Transmit[1];

        // Another port's receive pool: a PMD's last output hands the received packet itself over.
        var otherReceive = new ConcurrentPacketPool(4);
        var batch = PathBatch.Rent(_batches);
        batch.Add(Rent(otherReceive, 2));
        batch.Add(Rent(ownTransmit, 2));
        batch.Add(Rent(otherReceive, 2));

        port.Actor.Tell(batch.ToSend(2));

        var stats = Statistics(port.Actor);
        Assert.Equal(3, stats[2].TxPackets);
        Assert.Equal(3 * 64, stats[2].TxBytes);
        Assert.Equal(otherReceive.Size, otherReceive.Available);
        PacketAccounting.AssertPoolsFull(port);
        Assert.Same(batch, PathBatch.Rent(_batches));
    }

    [Fact]
    public void Frames_for_a_port_the_actor_does_not_serve_go_back_to_their_pool_uncounted()
    {
        var port = StreamPortActor.Start(Sys, new StreamPortSettings { Window = Defaults.PortWindow }, [CreateTestProbe().Ref], _batches);
        var pool = new ConcurrentPacketPool(2);
        var batch = PathBatch.Rent(_batches);
        batch.Add(Rent(pool, 7));

        port.Actor.Tell(batch.ToSend(7));

        var stats = Statistics(port.Actor);
        Assert.All(stats.Ports, p => Assert.Equal(0, p.TxPackets + p.TxDropped));
        Assert.Equal(pool.Size, pool.Available);
    }

    [Fact]
    public void The_links_carry_each_ports_own_transmit_pool_and_the_port_type()
    {
        var port = StreamPortActor.Start(Sys, new StreamPortSettings { Window = Defaults.PortWindow }, [CreateTestProbe().Ref], _batches);

        Assert.Equal([1u, 2u], port.Links.Select(l => l.Port));
        Assert.Equal(port.Pools.Transmit, port.Links.Select(l => l.TransmitPool));
        Assert.All(port.Links, l => Assert.Equal(port.Actor, l.Actor));
        Assert.All(port.Links, l => Assert.Equal(StreamPortActor.TypeName, l.Type));
    }

    private static Packet Rent(ConcurrentPacketPool pool, uint port)
    {
        Assert.True(pool.TryRent(out var packet));
        packet.SetFrame(new byte[64], port);
        return packet;
    }

    private PortActorStatistics Statistics(IActorRef port)
    {
        port.Tell(GetPortStatistics.Instance, TestActor);
        return ExpectMsg<PortActorStatistics>();
    }
}
