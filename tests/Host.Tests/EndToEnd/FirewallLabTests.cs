using System.Security.Cryptography;
using Actors.Bridge;
using Actors.Tests.Support.Lab;
using Akka.Actor;

namespace Host.Tests.EndToEnd;

/// <summary>
/// The firewall of DESIGN.md between two real hosts (network namespaces behind system ports):
/// connections from h1 (port 1) pass with their replies, connections from h2 (port 2) do not.
/// Every exchange is bounded in time. Needs root, iproute2, ethtool, ping, curl and python3;
/// skipped with the reason where they are missing.
/// </summary>
public sealed class FirewallLabTests(FirewallLab lab) : IClassFixture<FirewallLab>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [LinuxLabFact("ethtool", "ping", "curl", "python3")]
    public async Task H1_fetches_a_page_from_a_web_server_in_h2()
    {
        var fetch = await NetworkLab.ExecAsync(lab.H1, Patience, "curl", "-sS", "--max-time", "10", $"http://{lab.H2.Address}:{FirewallLab.WebPort}/index.html");

        Assert.True(fetch.Succeeded, "curl: " + fetch);
        Assert.Equal(lab.Page, fetch.Output);
    }

    [LinuxLabFact("ethtool", "ping", "curl", "python3")]
    public async Task H1_sends_a_udp_request_to_h2_and_gets_the_reply()
    {
        using var server = lab.Lab.Start(lab.H2, "python3", "-u", "-c", $"""
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("{lab.H2.Address}", 5353))
            print("ready")
            while True:
                data, peer = s.recvfrom(2048)
                s.sendto(b"pong:" + data, peer)
            """);
        Assert.True(await server.WaitForOutputAsync("ready", Patience), "UDP server: " + server.Output);

        var exchange = await NetworkLab.ExecAsync(lab.H1, Patience, "python3", "-c", $"""
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(5)
            s.sendto(b"ping-udp", ("{lab.H2.Address}", 5353))
            print(s.recvfrom(2048)[0].decode())
            """);

        Assert.True(exchange.Succeeded, "UDP client: " + exchange);
        Assert.Equal("pong:ping-udp", exchange.Output.Trim());
    }

    [LinuxLabFact("ethtool", "ping", "curl", "python3")]
    public async Task H2_cannot_open_a_tcp_connection_to_a_server_in_h1()
    {
        using var server = lab.Lab.Start(lab.H1, "python3", "-u", "-c", $"""
            import socket
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("{lab.H1.Address}", 9090))
            s.listen()
            print("ready")
            while True:
                c, peer = s.accept()
                print("accepted", peer[0])
                c.close()
            """);
        Assert.True(await server.WaitForOutputAsync("ready", Patience), "TCP server: " + server.Output);

        var attempt = await NetworkLab.ExecAsync(lab.H2, Patience, "python3", "-c", $"""
            import socket
            try:
                socket.create_connection(("{lab.H1.Address}", 9090), timeout=2)
                print("connected")
            except socket.timeout:
                print("timed out")
            except OSError as e:
                print("error", e)
            """);

        // The SYN is dropped (no RST either): the client times out, the server never sees it.
        Assert.Equal("timed out", attempt.Output.Trim());
        Assert.DoesNotContain("accepted", server.Output, StringComparison.Ordinal);
    }

    [LinuxLabFact("ethtool", "ping", "curl", "python3")]
    public async Task Ping_from_h1_to_h2_is_answered_and_ping_from_h2_to_h1_is_not()
    {
        var outbound = await NetworkLab.ExecAsync(lab.H1, Patience, "ping", "-c", "3", "-i", "0.2", "-w", "10", lab.H2.Address);
        var inbound = await NetworkLab.ExecAsync(lab.H2, Patience, "ping", "-c", "3", "-i", "0.2", "-w", "2", lab.H1.Address);

        Assert.True(outbound.Succeeded, "ping h1 -> h2: " + outbound);
        Assert.Contains(" 0% packet loss", outbound.Output, StringComparison.Ordinal);
        Assert.False(inbound.Succeeded, "ping h2 -> h1 was answered: " + inbound);
        Assert.Contains("100% packet loss", inbound.Output, StringComparison.Ordinal);
    }

    [LinuxLabFact("ethtool", "ping", "curl", "python3")]
    public async Task Ten_megabytes_from_h2_reach_h1_over_a_connection_h1_opened()
    {
        var before = await PortsAsync();

        await Download();

        var after = await PortsAsync();
        long port2Rx = after[2].RxBytes - before[2].RxBytes;
        long port1Tx = after[1].TxBytes - before[1].TxBytes;
        Assert.True(port2Rx > lab.Big.Length, $"port 2 received {port2Rx} bytes");
        Assert.True(port1Tx > lab.Big.Length, $"port 1 transmitted {port1Tx} bytes");
        Assert.Equal(0, after[1].RxDroppedTooLong + after[2].RxDroppedTooLong + after[1].TxDropped + after[2].TxDropped);
    }

    [LinuxLabFact("ethtool", "ping", "curl", "python3")]
    public async Task Ten_megabytes_from_h2_to_h1_take_the_recirculation_bypass()
    {
        long before = (await lab.PmdStatisticsAsync()).Sum(p => p.Pipeline.BypassHits);

        await Download();

        // Most of the transfer's frames (about 7,000 full segments one way, their acks the other)
        // belong to an established connection and take one pass instead of two.
        long hits = (await lab.PmdStatisticsAsync()).Sum(p => p.Pipeline.BypassHits) - before;
        Assert.True(hits > lab.Big.Length / 1500 / 2, $"pmd-stats show {hits} bypass hits for an established 10 MB transfer");
    }

    /// <summary>h1 fetches big.bin from h2 and checks it arrived whole.</summary>
    private async Task Download()
    {
        string target = Path.Combine(lab.WwwPath, $"download-{Guid.NewGuid():N}.bin");
        try
        {
            var fetch = await NetworkLab.ExecAsync(lab.H1, TimeSpan.FromSeconds(40), "curl", "-sS", "--max-time", "30", "-o", target, $"http://{lab.H2.Address}:{FirewallLab.WebPort}/big.bin");

            Assert.True(fetch.Succeeded, "curl: " + fetch);
            var received = await File.ReadAllBytesAsync(target);
            Assert.Equal(lab.Big.Length, received.Length);
            Assert.Equal(SHA256.HashData(lab.Big), SHA256.HashData(received));
        }
        finally
        {
            File.Delete(target);
        }
    }

    private async Task<Dictionary<uint, Actors.Ports.PortStatistics>> PortsAsync()
    {
        var shown = await lab.Bridge.Ask<PortsShown>(ShowPorts.Instance, Patience);
        return shown.Ports.ToDictionary(p => p.Number, p => p.Counters!);
    }
}
