using Host.Tests.Control;

namespace Host.Tests.OpenFlow;

/// <summary>
/// `run` in this process (generator traffic through the firewall, as the control channel tests
/// run it) with its OpenFlow management socket br0.mgmt beside the control socket, shared by the
/// tests of one class; each test puts the firewall back first.
/// </summary>
public sealed class OpenFlowDatapath : IAsyncLifetime
{
    public RunningDatapath Datapath { get; private set; } = null!;

    /// <summary>What ovs-ofctl connects to: unix:.../br0.mgmt.</summary>
    public string Target => "unix:" + System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Datapath.Socket)!, "br0.mgmt");

    public string FirewallFile => System.IO.Path.Combine(Datapath.Scratch.Path, "firewall.flows");

    public async Task InitializeAsync()
    {
        if (OvsTools.WhyMissing("ovs-ofctl") is not null)
        {
            return;
        }

        Datapath = await RunningDatapath.StartAsync();
        File.WriteAllText(FirewallFile, Host.Configuration.DatapathConfig.EmbeddedFirewallFlows());
    }

    /// <summary>The firewall again as the whole table (ovs-ofctl replace-flows, OpenFlow 1.3: 1.0 cannot name tables in it).</summary>
    public Task RestoreFirewallAsync() => OvsTools.OfctlOkAsync("-O", "OpenFlow13", "replace-flows", Target, FirewallFile);

    public async Task DisposeAsync()
    {
        if (Datapath is not null)
        {
            await Datapath.DisposeAsync();
        }
    }
}
