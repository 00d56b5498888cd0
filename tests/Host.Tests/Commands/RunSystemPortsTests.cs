using Actors.Tests.Support.Lab;
using Host.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// `run` with `ports = system`: the errors a user meets first (no such interface, no privilege),
/// and a short run on a lab. Without a control socket, so they never contend with the other
/// classes' runs for this process's one.
/// </summary>
public sealed class RunSystemPortsTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void A_missing_interface_stops_the_job_with_no_such_interface()
    {
        string missing = "nosuch" + LinuxLab.NewSuffix();
        string path = _scratch.Write("missing.conf", $"datapath {{ ports = system, system {{ port1 = {missing}, port2 = lo }} }}\n");

        var (exit, _, error) = Invoke("run", "--config", path, "--duration", "1", "--pmds", "1", "--control", "off");

        Assert.Equal(1, exit);
        Assert.Equal($"run: no such interface: {missing}", error.Trim());
    }

    [LinuxLabFact("ethtool", "ping")]
    public async Task The_main_job_runs_the_firewall_between_two_interfaces_and_reports_their_counters()
    {
        await using var lab = new NetworkLab();
        var h1 = await lab.AddHostAsync("ra", "10.0.0.1");
        var h2 = await lab.AddHostAsync("rb", "10.0.0.2");
        string path = _scratch.Write("lab.conf", $"datapath {{ ports = system, system {{ port1 = {h1.Interface}, port2 = {h2.Interface} }} }}\n");
        // Pinging from before the run starts until the test ends (disposing stops it): however
        // long the run takes to start on a loaded machine, its 6 s of forwarding see pings.
        using var ping = lab.Start(h1, "ping", "-i", "0.2", "-w", "120", h2.Address);

        var (exit, report, error) = await OwnThread.Run(() => Invoke("run", "--config", path, "--duration", "6", "--pmds", "1", "--control", "off"));

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Contains($"system ports 1 = {h1.Interface}, 2 = {h2.Interface}", report, StringComparison.Ordinal);
        Assert.Contains("bytes from 10.0.0.2", ping.Output, StringComparison.Ordinal);

        // Requests in on 1 and out on 2; replies in on 2 and out on 1 (ARP too); nothing too long.
        var port1 = SummaryTables.Row(report, "1", "ports (dump-ports)");
        var port2 = SummaryTables.Row(report, "2", "ports (dump-ports)");
        Assert.True(port1[0] > 0 && port2[0] > 0, report);
        Assert.True(port1[2] > 0 && port2[2] > 0, report);
        Assert.Equal(0, port1[6] + port2[6] + port1[8] + port2[8]);

        // No frame the datapath sends comes back in (its own transmissions are ignored): a few pings, not a storm.
        Assert.True(port1[0] + port2[0] < 200, report);
    }

    [WithoutCapNetRawFact]
    public async Task Without_cap_net_raw_the_job_stops_with_an_error_naming_it()
    {
        string path = _scratch.Write("lo.conf", "datapath { ports = system, system { port1 = lo, port2 = nosuch0 } }\n");
        string host = Path.Combine(AppContext.BaseDirectory, "ovs-actors.dll");
        string dotnet = Environment.ProcessPath!;
        string[] run = [dotnet, host, "run", "--config", path, "--duration", "1", "--pmds", "1", "--control", "off"];

        // As root, the child runs without the capability (dropped from its bounding set); otherwise it never had it.
        var result = await Shell.RunAsync(
            TimeSpan.FromSeconds(60),
            Environment.IsPrivilegedProcess ? ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", "--", .. run] : run);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("run: lo: packet socket: permission denied: packet sockets need CAP_NET_RAW (run as root, or grant it: setcap cap_net_raw+ep)", result.Error.Trim());
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A fact that needs a process without CAP_NET_RAW: Linux, and setpriv to drop it when the tests run as root.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    private sealed class WithoutCapNetRawFactAttribute : FactAttribute
    {
        public WithoutCapNetRawFactAttribute()
        {
            if (!OperatingSystem.IsLinux())
            {
                Skip = "needs Linux (AF_PACKET sockets)";
            }
            else if (Environment.IsPrivilegedProcess && !File.Exists("/usr/bin/setpriv"))
            {
                Skip = "running as root without setpriv (util-linux) to drop CAP_NET_RAW for a child";
            }
        }
    }
}
