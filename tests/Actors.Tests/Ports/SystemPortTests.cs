using System.Globalization;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Actors.Tests.Support.Lab;
using Akka.Actor;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>
/// System ports on real interfaces: hosts in network namespaces behind veth pairs whose other
/// ends the bridge opens as ports, switched by a plain NORMAL flow, on two PMDs with two receive
/// queues per port. Needs root; skipped with the reason elsewhere.
/// </summary>
public sealed class SystemPortTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly IReadOnlyDictionary<string, string> TwoQueues = new Dictionary<string, string> { ["n_rxq"] = "2" };

    [LinuxLabFact("ethtool", "ping")]
    public async Task Ports_added_and_removed_at_run_time_switch_their_hosts_and_the_other_ports_keep_their_traffic()
    {
        await using var lab = new NetworkLab();
        var h1 = await lab.AddHostAsync("sa", "10.0.0.1");
        var h2 = await lab.AddHostAsync("sb", "10.0.0.2");
        var h3 = await lab.AddHostAsync("sc", "10.0.0.3");
        await using var datapath = await Switch.StartAsync();

        Assert.Equal(new PortCreated(h1.Interface, 1), await datapath.AddAsync(h1.Interface, TwoQueues));
        Assert.Equal(new PortCreated(h2.Interface, 2), await datapath.AddAsync(h2.Interface, TwoQueues));
        Assert.Equal(new PortCreated(h3.Interface, 3), await datapath.AddAsync(h3.Interface, TwoQueues));
        await AssertPings(h1, h2);
        await AssertPings(h1, h3);
        Assert.True(PacketSocketsOn(h3.Interface) > 0);

        var destroyed = await datapath.Bridge.Ask<PortDestroyed>(new DestroyPort(h3.Interface), Patience);

        Assert.Equal(3u, destroyed.Number);
        await AssertPings(h1, h2);
        await AssertDoesNotPing(h1, h3);
        var shown = await datapath.Bridge.Ask<PortsShown>(ShowPorts.Instance, Patience);
        Assert.Equal([$"1 {h1.Interface} system", $"2 {h2.Interface} system"], shown.Ports.Select(p => $"{p.Number} {p.Name} {p.Type}"));
        Assert.All(shown.Ports, p => Assert.True(p.Counters!.RxPackets > 0 && p.Counters.TxPackets > 0, $"port {p.Number} carried no traffic"));
        Assert.All(shown.Ports, p => Assert.Equal(0, p.Counters!.RxDropped + p.Counters.TxDropped));

        // The ports' own transmissions never come back in (a loop would flood the NORMAL flow): a few pings' worth.
        Assert.All(shown.Ports, p => Assert.True(p.Counters!.RxPackets < 200, $"port {p.Number} received {p.Counters.RxPackets} frames"));

        // Answered once the port had stopped: its threads ended and its sockets are closed; it can be
        // added again, with the lowest free number.
        Assert.Equal(0, PacketSocketsOn(h3.Interface));
        Assert.Equal(new PortCreated(h3.Interface, 3), await datapath.AddAsync(h3.Interface, TwoQueues));
        await AssertPings(h1, h3);
    }

    [LinuxLabFact("ethtool", "ping")]
    public async Task A_frame_longer_than_the_interfaces_mtu_allows_is_not_sent_and_is_counted()
    {
        await using var lab = new NetworkLab();
        var h1 = await lab.AddHostAsync("ma", "10.0.0.1");
        var h2 = await lab.AddHostAsync("mb", "10.0.0.2", outerMtu: 1000);
        await using var datapath = await Switch.StartAsync();
        await datapath.AddAsync(h1.Interface, TwoQueues);
        await datapath.AddAsync(h2.Interface, TwoQueues);

        await AssertPings(h1, h2);
        var big = await NetworkLab.ExecAsync(h1, Patience, "ping", "-c", "2", "-i", "0.2", "-w", "2", "-s", "1400", h2.Address);

        Assert.False(big.Succeeded, "a 1442-byte frame crossed a port with MTU 1000: " + big);
        var port2 = (await datapath.Bridge.Ask<PortsShown>(ShowPorts.Instance, Patience)).Ports.Single(p => p.Number == 2).Counters!;
        Assert.True(port2.TxDroppedTooLong >= 2, $"tx dropped too long: {port2.TxDroppedTooLong}");
        Assert.Equal(0, port2.TxErrors);
    }

    [LinuxLabFact("ethtool", "ping")]
    public async Task Drain_stops_receiving_and_answers_once_the_pmds_have_finished_what_the_port_sent()
    {
        await using var lab = new NetworkLab();
        var h1 = await lab.AddHostAsync("da", "10.0.0.1");
        var h2 = await lab.AddHostAsync("db", "10.0.0.2");
        await using var datapath = await Switch.StartAsync();
        var port1 = SystemPortActor.Start(datapath.Node.Cluster.System, new SystemPortSettings { Interface = h1.Interface, Port = 1, Queues = 2, Window = Defaults.PortWindow }, datapath.Node.Pmds, datapath.Node.Batches);
        var port2 = SystemPortActor.Start(datapath.Node.Cluster.System, new SystemPortSettings { Interface = h2.Interface, Port = 2, Queues = 2, Window = Defaults.PortWindow }, datapath.Node.Pmds, datapath.Node.Batches);
        await datapath.Node.UsePortsAsync([.. port1.Links, .. port2.Links], Patience);
        Assert.Equal(["system", "system"], port1.Links.Concat(port2.Links).Select(l => l.Type));

        // Nothing is received before StartTraffic.
        await AssertDoesNotPing(h1, h2);
        port1.Actor.Tell(StartTraffic.Instance);
        port2.Actor.Tell(StartTraffic.Instance);
        await AssertPings(h1, h2);

        var drained = await port1.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);

        var counters = drained.Statistics[1];
        Assert.True(counters.RxPackets > 0 && counters.TxPackets > 0);
        await AssertDoesNotPing(h1, h2);
        var after = (await port1.Actor.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience))[1];
        Assert.Equal(counters.RxPackets, after.RxPackets);
    }

    [LinuxLabFact("ethtool", "ping")]
    public async Task More_frames_than_any_pool_holds_are_each_transmitted_or_counted_and_the_pools_are_full_again()
    {
        await using var lab = new NetworkLab();
        var h1 = await lab.AddHostAsync("pa", "10.0.0.1");
        var h2 = await lab.AddHostAsync("pb", "10.0.0.2");
        await using var datapath = await Switch.StartAsync();
        var node = datapath.Node;

        // Pools of 32 packets (the smallest allowed) per receive queue and for transmit.
        var port1 = SystemPortActor.Start(node.Cluster.System, SmallPools(h1.Interface, 1), node.Pmds, node.Batches);
        var port2 = SystemPortActor.Start(node.Cluster.System, SmallPools(h2.Interface, 2), node.Pmds, node.Batches);
        await node.UsePortsAsync([.. port1.Links, .. port2.Links], Patience);
        port1.Actor.Tell(StartTraffic.Instance);
        port2.Actor.Tell(StartTraffic.Instance);

        // 300 echo requests of 1,000 bytes 5 ms apart, and their replies.
        var ping = await NetworkLab.ExecAsync(h1, Patience, "ping", "-q", "-c", "300", "-i", "0.005", "-s", "1000", "-w", "15", h2.Address);
        Assert.True(ping.Succeeded, $"ping {h2.Address}: {ping}");
        await port1.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        await port2.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);

        // What the PMDs sent port 1 before port 2's drain ended may still be in port 1's mailbox: a
        // statistics round trip to each port comes after it.
        var counters1 = (await port1.Actor.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience))[1];
        var counters2 = (await port2.Actor.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience))[2];
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);

        Assert.True(counters1.RxPackets >= 300 && counters2.RxPackets >= 300, $"received {counters1.RxPackets} and {counters2.RxPackets}");
        // Pools of 32 may run dry while the PMDs still hold their packets: the port counts what it could not take.
        PacketAccounting.AssertEveryPacketAccountedFor([counters1, counters2], pmdStats, droppedByFlows: 0, receiveDropsAllowed: true);
        PacketAccounting.AssertPoolsFull(port1);
        PacketAccounting.AssertPoolsFull(port2);
    }

    private static SystemPortSettings SmallPools(string name, uint number) =>
        new() { Interface = name, Port = number, Queues = 2, ReceivePoolSize = 32, TransmitPoolSize = 32, Window = Defaults.PortWindow };

    private static async Task AssertPings(LabHost from, LabHost to)
    {
        var ping = await NetworkLab.ExecAsync(from, Patience, "ping", "-c", "3", "-i", "0.2", "-w", "10", to.Address);
        Assert.True(ping.Succeeded, $"ping {from.Address} -> {to.Address}: {ping}");
    }

    private static async Task AssertDoesNotPing(LabHost from, LabHost to)
    {
        var ping = await NetworkLab.ExecAsync(from, Patience, "ping", "-c", "2", "-i", "0.2", "-w", "1", to.Address);
        Assert.False(ping.Succeeded, $"ping {from.Address} -> {to.Address} was answered: {ping}");
    }

    /// <summary>Packet sockets bound to <paramref name="name"/>, from /proc/net/packet (its Iface column is the interface index).</summary>
    private static int PacketSocketsOn(string name)
    {
        string index = File.ReadAllText($"/sys/class/net/{name}/ifindex").Trim();
        return File.ReadLines("/proc/net/packet").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(columns => columns.Length > 4 && columns[4] == index);
    }

    /// <summary>A single-node datapath (two PMDs) whose bridge switches everything with NORMAL.</summary>
    private sealed class Switch : IAsyncDisposable
    {
        private readonly DatapathCluster _cluster;

        private Switch(DatapathCluster cluster, DatapathNode node)
        {
            _cluster = cluster;
            Node = node;
        }

        public DatapathNode Node { get; }

        public IActorRef Bridge => Node.Bridge;

        public static async Task<Switch> StartAsync()
        {
            var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
            var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings);
            var changed = await node.Bridge.Ask<FlowsChanged>(new AddFlows("actions=NORMAL", "test"), Patience);
            Assert.Equal(1, changed.Affected);
            return new Switch(cluster, node);
        }

        public Task<PortCreated> AddAsync(string name, IReadOnlyDictionary<string, string> options) =>
            Bridge.Ask<PortCreated>(new CreatePort(name, SystemPortActor.TypeName, options), Patience);

        public async ValueTask DisposeAsync()
        {
            await Node.StopAsync();
            await _cluster.DisposeAsync();
        }
    }
}
