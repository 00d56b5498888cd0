using Actors.Bridge;
using Actors.Cluster;
using Host.Configuration;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support.Lab;
using Akka.Actor;
using Datapath.Bypass;
using Datapath.Tests.Support;
using Host.Tests.Support;

namespace Host.Tests.EndToEnd;

/// <summary>
/// Two hosts and the firewall between them, shared by the tests of <see cref="FirewallLabTests"/>:
/// namespaces h1 (10.0.0.1, behind system port 1, the inside) and h2 (10.0.0.2, behind port 2),
/// the datapath in this process (two PMDs, two receive queues per port, recirculation bypass on)
/// with the firewall of DESIGN.md (hocon/firewall.flows), and a web server in h2 serving a page
/// and a 10 MB file. Everything is removed on dispose, also after a failure. Where no lab can be
/// built, nothing is made (the tests are skipped with the reason).
/// </summary>
public sealed class FirewallLab : IAsyncLifetime
{
    public const int WebPort = 8080;

    public static readonly string[] Tools = ["ethtool", "ping", "curl", "python3"];

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly NetworkLab _lab = new();
    private readonly ScratchDirectory _www = new();
    private DatapathCluster? _cluster;
    private DatapathNode? _node;

    public LabHost H1 { get; private set; } = null!;

    public LabHost H2 { get; private set; } = null!;

    public NetworkLab Lab => _lab;

    public IActorRef Bridge => _node!.Bridge;

    /// <summary>The page h2 serves: unique to this run, so a cached or foreign answer cannot pass.</summary>
    public string Page { get; } = $"<html><body>firewall lab {Guid.NewGuid()}</body></html>\n";

    /// <summary>10 MB h2 serves as big.bin (deterministic, not compressible).</summary>
    public byte[] Big { get; } = MakeBig();

    public string WwwPath => _www.Path;

    public async Task InitializeAsync()
    {
        if (LinuxLab.WhyUnavailable(Tools) is not null)
        {
            return;
        }

        try
        {
            H1 = await _lab.AddHostAsync("fa", "10.0.0.1");
            H2 = await _lab.AddHostAsync("fb", "10.0.0.2");
            _www.Write("index.html", Page);
            _www.Write("big.bin", Big);

            _cluster = await DatapathCluster.StartAsync(DatapathConfig.LoadEmbedded(), Defaults.ConntrackSettings, upTimeout: Patience);
            _node = DatapathNode.Start(_cluster, 2, Defaults.PmdSettings with { Core = Defaults.PmdCoreOptions with { Bypass = BypassMode.Megaflow } }, bridgeSettings: Defaults.BridgeSettings with { PortQueues = 2 });
            var flows = await _node.Bridge.Ask<object>(new ReplaceFlows(DatapathConfig.EmbeddedFirewallFlows(), DatapathConfig.EmbeddedFlowsName), Patience);
            Assert.IsType<FlowsChanged>(flows);
            var options = new Dictionary<string, string>();
            Assert.Equal(new PortCreated(H1.Interface, 1), await _node.Bridge.Ask<object>(new CreatePort(H1.Interface, SystemPortActor.TypeName, options, 1), Patience));
            Assert.Equal(new PortCreated(H2.Interface, 2), await _node.Bridge.Ask<object>(new CreatePort(H2.Interface, SystemPortActor.TypeName, options, 2), Patience));

            var web = _lab.Start(H2, "python3", "-u", "-m", "http.server", WebPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", H2.Address, "--directory", _www.Path);
            Assert.True(await web.WaitForOutputAsync("Serving HTTP", Patience), "the web server in h2 did not start: " + web.Output);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_node is not null)
            {
                await _node.StopAsync();
            }

            if (_cluster is not null)
            {
                await _cluster.DisposeAsync();
            }
        }
        finally
        {
            _node = null;
            _cluster = null;
            await _lab.DisposeAsync();
            _www.Dispose();
        }
    }

    /// <summary>pmd-stats-show through the bridge.</summary>
    public async Task<IReadOnlyList<PmdStatistics>> PmdStatisticsAsync() =>
        (await Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience)).Pmds;

    private static byte[] MakeBig()
    {
        var bytes = new byte[10_000_000];
        new Random(7).NextBytes(bytes);
        return bytes;
    }
}
