using Datapath.Tests.Support;
using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Bridge;
using Actors.Cluster;
using Host.Configuration;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support.Lab;
using Akka.Actor;
using Host.OpenFlow;
using Host.Tests.OpenFlow;
using Host.Tests.Support;

namespace Host.Tests.EndToEnd;

/// <summary>
/// A controller nobody here wrote controls the bridge: Debian's ovs-testcontroller (a learning
/// switch: packet_out and a flow_mod per packet_in of a table miss) over OpenFlow 1.3 (where it
/// installs a table-miss flow) and 1.0 (where the switch sends it misses by itself, as Open
/// vSwitch does), with the bridge connecting to it (tcp:127.0.0.1:PORT), and two hosts in network
/// namespaces behind system ports ping each other through it. Needs root, iproute2, ethtool, ping
/// and ovs-testcontroller; skipped with the reason otherwise.
/// </summary>
public sealed partial class TestControllerLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [TestControllerLabTheory]
    [InlineData("OpenFlow13")]
    [InlineData("OpenFlow10")]
    public async Task Two_hosts_ping_each_other_through_flows_ovs_testcontroller_installs(string version)
    {
        await using var lab = new NetworkLab();
        using var scratch = new ScratchDirectory();
        var h1 = await lab.AddHostAsync("ta", "10.0.0.1");
        var h2 = await lab.AddHostAsync("tb", "10.0.0.2");
        // Port 0: the kernel picks a free one and the controller logs it, so no other test can take
        // it between choosing and binding.
        using var controller = new BackgroundProcess("ovs-testcontroller", "-O", version, $"--unixctl={Path.Combine(scratch.Path, "tc.ctl")}", "ptcp:0:127.0.0.1");
        Assert.True(await controller.WaitForOutputAsync("listening on port", Patience), "ovs-testcontroller listening: " + controller.Output);
        int port = int.Parse(ListeningPort().Match(controller.Output).Groups[1].Value, CultureInfo.InvariantCulture);

        await using var cluster = await DatapathCluster.StartAsync(DatapathConfig.LoadEmbedded(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings with { PortQueues = 2 });
        try
        {
            // No flows of our own: everything the bridge does, the controller told it.
            await node.UseFlowsAsync([], Patience);
            var none = new Dictionary<string, string>();
            Assert.Equal(new PortCreated(h1.Interface, 1), await node.Bridge.Ask<object>(new CreatePort(h1.Interface, SystemPortActor.TypeName, none, 1), Patience));
            Assert.Equal(new PortCreated(h2.Interface, 2), await node.Bridge.Ask<object>(new CreatePort(h2.Interface, SystemPortActor.TypeName, none, 2), Patience));

            var settings = Defaults.Settings.OpenFlow with { Management = ControlSettings.Off, Controllers = [$"tcp:127.0.0.1:{port}"] };
            await using var server = OpenFlowServer.Start(cluster.System, node.Bridge, settings, new ControlSettings(ControlSettings.Off, 1, 1024, Patience, Patience));

            if (version == "OpenFlow13")
            {
                // From 1.3 on, the controller's first flow_mod is a table-miss flow that sends it every unknown packet;
                // with 1.0 the switch sends it misses by itself, as Open vSwitch does.
                await Eventually(async () => (await Dump(node)).Contains("priority=0 actions=CONTROLLER:128", StringComparison.Ordinal), "the controller's table-miss flow: " + controller.Output);
            }

            // The first ping may go out before the controller is connected: the bridge connects within a second.
            await Eventually(async () => (await NetworkLab.ExecAsync(h1, Patience, "ping", "-c", "1", "-W", "1", h2.Address)).Succeeded, "a ping from h1 to h2 answered");
            var back = await NetworkLab.ExecAsync(h2, Patience, "ping", "-c", "3", "-W", "2", h1.Address);
            Assert.True(back.Succeeded, "ping h2 -> h1: " + back);

            // The learning switch installed exact flows for the echo requests and replies, and the pings hit them.
            string dump = await Dump(node);
            Assert.Contains("priority=1,icmp,in_port=1", dump, StringComparison.Ordinal);
            Assert.Contains("priority=1,icmp,in_port=2", dump, StringComparison.Ordinal);
            Assert.Contains("idle_timeout=60", dump, StringComparison.Ordinal);
        }
        finally
        {
            await node.StopAsync();
        }
    }

    private static async Task<string> Dump(DatapathNode node) =>
        (await node.Bridge.Ask<FlowsDumped>(new DumpFlows(), Patience)).Text;

    private static Task Eventually(Func<Task<bool>> condition, string what) =>
        TestSupport.Waiting.Eventually.Until(condition, holds => holds, what, Patience);

    [GeneratedRegex(@"listening on port (\d+)")]
    private static partial Regex ListeningPort();
}

/// <summary>The namespace lab plus ovs-testcontroller: skipped with whichever reason applies.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TestControllerLabTheoryAttribute : TheoryAttribute
{
    public TestControllerLabTheoryAttribute()
    {
        if ((LinuxLab.WhyUnavailable(["ethtool", "ping"]) ?? OvsTools.WhyMissing("ovs-testcontroller")) is { } reason)
        {
            Skip = reason;
        }
    }
}
