using System.Text.RegularExpressions;
using Actors.Tests.Support.Lab;

namespace Host.Tests.Control;

/// <summary>
/// Ports through the control channel of a running datapath: `show` lists them with counters,
/// `add-port` and `del-port` change them while the generator's traffic runs, and refusals come
/// back as errors.
/// </summary>
public sealed class ControlPortTests
{
    [Fact]
    public async Task Show_lists_the_generator_ports_with_their_counters_and_bad_port_commands_are_refused()
    {
        await using var datapath = await RunningDatapath.StartAsync();
        await RunningDatapath.Eventually(() => datapath.Ok("show") is var s && RxOf(s, 1) > 0 && RxOf(s, 2) > 0, "both ports received traffic");

        string show = datapath.Ok("show");
        Assert.Contains(" 1(p1): type generator", show, StringComparison.Ordinal);
        Assert.Contains(" 2(p2): type generator", show, StringComparison.Ordinal);

        var added = datapath.Call("add-port", "nosuchif0", "system");
        Assert.Equal(1, added.Exit);
        Assert.Contains("no such interface: nosuchif0", added.Error, StringComparison.Ordinal);

        var deleted = datapath.Call("del-port", "nosuchif0");
        Assert.Equal(1, deleted.Exit);
        Assert.DoesNotContain("nosuchif0", datapath.Ok("show"), StringComparison.Ordinal);
    }

    [LinuxLabFact("ethtool")]
    public async Task A_system_port_added_under_traffic_shows_up_and_del_port_removes_it_while_the_others_keep_forwarding()
    {
        await using var lab = new NetworkLab();
        var host = await lab.AddHostAsync("cp", "10.0.0.3");
        await using var datapath = await RunningDatapath.StartAsync();

        datapath.Ok("add-port", host.Interface, "system");
        Assert.Contains($" 3({host.Interface}): type system", datapath.Ok("show"), StringComparison.Ordinal);

        long before = RxOf(datapath.Ok("show"), 1);
        datapath.Ok("del-port", host.Interface);

        string show = datapath.Ok("show");
        Assert.DoesNotContain(host.Interface, show, StringComparison.Ordinal);
        await RunningDatapath.Eventually(() => RxOf(datapath.Ok("show"), 1) > before, "port 1 keeps receiving after del-port");
    }

    /// <summary>The rx packet count `show` prints for port <paramref name="port"/>.</summary>
    private static long RxOf(string show, int port)
    {
        var match = Regex.Match(show, $@"^ {port}\([^)]*\): type \w+\n\s+rx pkts=(\d+)", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }
}
