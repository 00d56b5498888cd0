using System.Net.Sockets;
using Host.Tests.Support;

namespace Host.Tests.Control;

/// <summary>Control channels with a datapath of their own: atomic table swaps, exit, and the socket file's life.</summary>
public sealed class ControlLifecycleTests : IDisposable
{
    // Two tables that forward everything, each through its own ct(table=N) continuation. A packet
    // whose first pass used one table and whose recirculated pass used the other meets the other
    // table's drop rule: any mixture is a dropped packet.
    private const string OldTable = """
        table=0, priority=100,ip actions=ct(table=1)
        table=0, priority=10,arp actions=NORMAL
        table=1, priority=10,ip,in_port=1 actions=output:2
        table=1, priority=10,ip,in_port=2 actions=output:1
        table=2, priority=10,ip actions=drop
        """;

    private const string NewTable = """
        table=0, priority=100,ip actions=ct(table=2)
        table=0, priority=10,arp actions=NORMAL
        table=2, priority=10,ip,in_port=1 actions=output:2
        table=2, priority=10,ip,in_port=2 actions=output:1
        table=1, priority=10,ip actions=drop
        """;

    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Replace_flows_under_traffic_never_handles_a_packet_with_a_mixture_of_old_and_new_tables()
    {
        await using var datapath = await RunningDatapath.StartAsync(OldTable);
        string oldFile = _scratch.Write("old.flows", OldTable);
        string newFile = _scratch.Write("new.flows", NewTable);

        // Each table forwards some traffic before the next swap (its forwarding rule counts packets).
        for (int i = 0; i < 10; i++)
        {
            datapath.Ok("replace-flows", newFile);
            await RunningDatapath.Eventually(() => datapath.Packets("priority=10,ip,in_port=1 actions=output:2") > 0, "the new table forwarding");
            datapath.Ok("replace-flows", oldFile);
            await RunningDatapath.Eventually(() => datapath.Packets("priority=10,ip,in_port=1 actions=output:2") > 0, "the old table forwarding");
        }

        Assert.Contains("ct(table=1)", datapath.Ok("dump-flows", "table=0"), StringComparison.Ordinal);
        var drops = datapath.Json("pmd-stats-show").GetProperty("pmds").EnumerateArray().Select(p => p.GetProperty("drops")).ToList();
        Assert.All(drops, d => Assert.Equal(0, d.GetProperty("drop action").GetInt64()));
        Assert.All(drops, d => Assert.Equal(0, d.GetProperty("upcall failed").GetInt64()));

        // After the drain, every frame a host sent was forwarded: nothing was lost to a mixture.
        Assert.Equal(0, await datapath.ExitAsync());
        var port1 = SummaryTables.Row(datapath.Output, "1", "ports (dump-ports)");
        var port2 = SummaryTables.Row(datapath.Output, "2", "ports (dump-ports)");
        Assert.True(port1[0] > 0);
        Assert.Equal(port1[0], port2[2]);
        Assert.Equal(port2[0], port1[2]);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_stale_socket_left_by_a_crashed_run_is_replaced_and_exit_ends_the_run_cleanly()
    {
        string socketPath = Path.Combine(_scratch.Path, "stale.ctl");
        using (var crashed = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            // .NET removes the file of a socket it bound when disposing it; a crash does not:
            // move the file away from the path .NET remembers.
            string bound = Path.Combine(_scratch.Path, "bound.ctl");
            crashed.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, socketPath);
        }

        Assert.True(File.Exists(socketPath));

        await using var datapath = await RunningDatapath.StartAsync(socket: socketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socketPath));

        Assert.Equal(0, await datapath.ExitAsync());
        Assert.Contains("throughput:", datapath.Output, StringComparison.Ordinal);
        Assert.Empty(datapath.Error);
        Assert.False(File.Exists(socketPath), "the socket file is removed on exit");
    }

    [Fact]
    public async Task A_client_that_never_reads_its_answers_does_not_keep_the_run_alive_after_exit()
    {
        // Idle timeout far beyond the test: only the shutdown can free the stuck connection.
        await using var datapath = await RunningDatapath.StartAsync(config: "datapath.control.idle-timeout = 10m\n");
        using var greedy = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await greedy.ConnectAsync(new UnixDomainSocketEndPoint(datapath.Socket));
        byte[] request = System.Text.Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"list-commands\",\"id\":1}\n");
        byte[] flood = [.. Enumerable.Range(0, 20_000).SelectMany(_ => request)];
        _ = greedy.SendAsync(flood);

        // Answers pile up unread on the client's side: the server is writing into a full socket.
        await RunningDatapath.Eventually(() => greedy.Available > 100_000, "unread answers piling up");

        Assert.Equal(0, await datapath.ExitAsync());
        Assert.Contains("throughput:", datapath.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_in_the_way_of_the_socket_is_left_alone_and_run_exits_1()
    {
        string path = _scratch.Write("not-a-socket.ctl", "precious");
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = Program.Run(["run", "--control", path, "--duration", "1", "--pmds", "1"], output, error);

        Assert.Equal(1, exit);
        Assert.Contains($"{path} exists and is not a socket (it is a regular file)", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void A_client_without_a_datapath_says_the_socket_is_missing_and_exits_2()
    {
        string path = Path.Combine(_scratch.Path, "nobody.ctl");
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = Program.Run(["pmd-stats-show", "--target", path], output, error);

        Assert.Equal(2, exit);
        Assert.Contains($"{path}: no such control socket", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }
}
