using Actors.Bridge;
using Actors.PacketPath;
using Actors.Pmd;
using Actors.Ports;
using Actors.Ports.Linux;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Actors.Tests.Bridge;

/// <summary>
/// The bridge's named-port commands (add-port, del-port, show) where no interface is needed: the
/// refusals, and ports given as links (generator, pcap) being listed, counted and removed by name.
/// </summary>
public sealed class BridgePortCommandTests : Akka.TestKit.Xunit2.TestKit
{
    public BridgePortCommandTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    private static IReadOnlyDictionary<string, string> NoOptions => new Dictionary<string, string>();

    [Fact]
    public void A_system_port_on_a_missing_interface_is_refused_as_no_such_interface_and_the_ports_stay_as_they_were()
    {
        var pmd = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([pmd.Ref], Defaults.BridgeSettings));
        string name = "nosuch" + Support.Lab.LinuxLab.NewSuffix();

        bridge.Tell(new CreatePort(name, "system", NoOptions));

        var failed = ExpectMsg<PortCommandFailed>();
        Assert.Equal("no such interface: " + name, failed.Error);
        bridge.Tell(ShowPorts.Instance);
        Assert.Empty(ExpectMsg<PortsShown>().Ports);

        // The bridge answered after handling the refused command: what it sent the PMD then is queued.
        Assert.False(pmd.HasMessages);
    }

    [Fact]
    public void Starting_a_system_port_on_a_missing_interface_throws_the_clear_error()
    {
        string name = "nosuch" + Support.Lab.LinuxLab.NewSuffix();
        var settings = new SystemPortSettings { Interface = name, Port = 1, Window = Defaults.PortWindow };

        var error = Assert.Throws<SystemPortException>(() => SystemPortActor.Start(Sys, settings, [CreateTestProbe().Ref], PathBatch.NewPool()));

        Assert.Equal("no such interface: " + name, error.Message);
    }

    [Theory]
    [InlineData("tap0", "internal", null, "tap0: unknown port type 'internal' (known: system)")]
    [InlineData("eth9", "system", "n_txq=2", "eth9: unknown option 'n_txq' for a system port (known: n_rxq)")]
    [InlineData("eth9", "system", "n_rxq=0", "eth9: n_rxq must be a number of queues from 1 to 1024, not '0'")]
    [InlineData("eth9", "system", "n_rxq=two", "eth9: n_rxq must be a number of queues from 1 to 1024, not 'two'")]
    [InlineData(" ", "system", null, "a port needs a name")]
    public void A_bad_add_port_is_refused_with_what_is_wrong(string name, string type, string? option, string expected)
    {
        var bridge = Sys.ActorOf(BridgeActor.Props([CreateTestProbe().Ref], Defaults.BridgeSettings));
        var options = option is null ? NoOptions : new Dictionary<string, string> { [option.Split('=')[0]] = option.Split('=')[1] };

        bridge.Tell(new CreatePort(name, type, options));

        Assert.Equal(expected, ExpectMsg<PortCommandFailed>().Error);
    }

    [Fact]
    public void A_port_name_or_number_already_in_use_is_refused()
    {
        var bridge = Sys.ActorOf(BridgeActor.Props([CreateTestProbe().Ref], Defaults.BridgeSettings));
        bridge.Tell(new AddPort(new PortLink(1, TestActor, new ConcurrentPacketPool(4), Type: "generator")));
        ExpectMsg<PortsChanged>();

        bridge.Tell(new CreatePort("p1", "system", NoOptions));
        Assert.Equal("port p1 already exists (number 1)", ExpectMsg<PortCommandFailed>().Error);

        bridge.Tell(new CreatePort("eth9", "system", NoOptions, Number: 1));
        Assert.Equal("eth9: port number 1 is in use by p1", ExpectMsg<PortCommandFailed>().Error);

        bridge.Tell(new CreatePort("eth9", "system", NoOptions, Number: 0));
        Assert.Equal("eth9: port number 0 is outside 1..65280", ExpectMsg<PortCommandFailed>().Error);
    }

    [Fact]
    public void Show_lists_linked_ports_by_their_link_names_and_types_with_their_actors_counters()
    {
        var bridge = Sys.ActorOf(BridgeActor.Props([CreateTestProbe().Ref], Defaults.BridgeSettings));
        var generator = CreateTestProbe();
        var pcap = CreateTestProbe();
        bridge.Tell(new SetPorts([
            new PortLink(1, generator.Ref, new ConcurrentPacketPool(4), Type: "generator"),
            new PortLink(2, generator.Ref, new ConcurrentPacketPool(4), Type: "generator"),
            new PortLink(7, pcap.Ref, new ConcurrentPacketPool(4), Name: "capture", Type: "pcap"),
        ]));
        ExpectMsg<PortsChanged>();

        bridge.Tell(ShowPorts.Instance);

        // One question per actor, answered with all of its ports.
        generator.ExpectMsg<GetPortStatistics>();
        generator.Reply(new PortActorStatistics([new PortStatistics(1, 10, 640, 9, 576, 1, 0), new PortStatistics(2, 9, 576, 10, 640, 0, 2)], null, null));
        pcap.ExpectMsg<GetPortStatistics>();
        pcap.Reply(new PortActorStatistics([new PortStatistics(7, 3, 180, 0, 0, 0, 0)], null, null));
        var shown = ExpectMsg<PortsShown>().Ports;

        Assert.Equal(["1 p1 generator", "2 p2 generator", "7 capture pcap"], shown.Select(p => $"{p.Number} {p.Name} {p.Type}"));
        Assert.Equal([10L, 9L, 3L], shown.Select(p => p.Counters!.RxPackets));
        Assert.Equal(1, shown[0].Counters!.RxDroppedOverload);
        Assert.Equal(2, shown[1].Counters!.RxDroppedPoolEmpty);
    }

    [Fact]
    public void Show_answers_at_the_timeout_with_no_counters_for_a_port_whose_actor_is_silent()
    {
        var bridge = Sys.ActorOf(BridgeActor.Props([CreateTestProbe().Ref], Defaults.BridgeSettings with { GatherTimeout = TimeSpan.FromSeconds(2) }));
        var answering = CreateTestProbe();
        var silent = CreateTestProbe();
        bridge.Tell(new SetPorts([new PortLink(1, answering.Ref, new ConcurrentPacketPool(4)), new PortLink(2, silent.Ref, new ConcurrentPacketPool(4))]));
        ExpectMsg<PortsChanged>();

        bridge.Tell(ShowPorts.Instance);
        answering.ExpectMsg<GetPortStatistics>();
        answering.Reply(new PortActorStatistics([new PortStatistics(1, 5, 320, 0, 0, 0, 0)], null, null));
        silent.ExpectMsg<GetPortStatistics>();
        Assert.False(HasMessages, "answered before the gather timeout");
        // The gatherer starts its timer when it starts, after the bridge sent the questions.
        this.AdvanceUntilMessage(TimeSpan.FromSeconds(2));

        var shown = ExpectMsg<PortsShown>().Ports;
        Assert.Equal(5, shown[0].Counters!.RxPackets);
        Assert.Equal("unknown", shown[0].Type);
        Assert.Null(shown[1].Counters);
    }

    [Fact]
    public void Del_port_removes_a_linked_port_by_name_and_the_pmds_get_the_list_without_it()
    {
        var pmd = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([pmd.Ref], Defaults.BridgeSettings));
        var port = CreateTestProbe();
        bridge.Tell(new SetPorts([new PortLink(1, port.Ref, new ConcurrentPacketPool(4)), new PortLink(2, port.Ref, new ConcurrentPacketPool(4))]));
        ExpectMsg<PortsChanged>();
        pmd.ExpectMsg<UsePorts>();

        bridge.Tell(new DestroyPort("p2"));

        Assert.Equal(new PortDestroyed("p2", 2), ExpectMsg<PortDestroyed>());
        Assert.Equal([1u], pmd.ExpectMsg<UsePorts>().Ports.Select(p => p.Port));

        bridge.Tell(new DestroyPort("p2"));
        Assert.Equal("no such port: p2", ExpectMsg<PortCommandFailed>().Error);
    }
}
