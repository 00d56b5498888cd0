using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Host.Tests.Support;

namespace Host.Tests.Control;

/// <summary>
/// `run` in this process (generator ports, two PMDs, 20 connections, up to two minutes) with its
/// control socket in a private directory; commands go through the socket exactly as from a shell.
/// </summary>
public sealed partial class RunningDatapath : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();
    private Task<int>? _run;

    /// <param name="config">More HOCON for the run's configuration file.</param>
    public RunningDatapath(string? flows = null, string? socket = null, string? config = null)
    {
        Scratch = new ScratchDirectory();
        Socket = socket ?? Path.Combine(Scratch.Path, "ctl", "ovs-actors.ctl");
        config = (flows is null ? string.Empty : $"datapath.flows = \"{Scratch.Write("table.flows", flows)}\"\n") + config;
        ConfigPath = Scratch.Write("run.conf", config);
    }

    public ScratchDirectory Scratch { get; }

    public string Socket { get; }

    public string ConfigPath { get; }

    public string Output => _output.ToString();

    public string Error => _error.ToString();

    public static async Task<RunningDatapath> StartAsync(string? flows = null, string? socket = null, string? config = null)
    {
        var datapath = new RunningDatapath(flows, socket, config);
        await datapath.StartAndWaitAsync().ConfigureAwait(false);
        return datapath;
    }

    public Task<int> StartRun() => OwnThread.Run(() => Program.Run(
        ["run", "--config", ConfigPath, "--control", Socket, "--duration", "120", "--pmds", "2", "--connections", "20"], _output, _error));

    /// <summary>Runs one client command against this datapath's socket.</summary>
    public (int Exit, string Output, string Error) Call(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run([.. args, "--target", Socket], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A command that must succeed; its output.</summary>
    public string Ok(params string[] args)
    {
        var (exit, output, error) = Call(args);
        Assert.True(exit == 0, $"{string.Join(' ', args)} exited {exit}: {error}");
        return output;
    }

    public JsonElement Json(params string[] args) => JsonDocument.Parse(Ok([.. args, "--format", "json"])).RootElement.Clone();

    /// <summary>n_packets of the one flow whose dump line contains <paramref name="flow"/>.</summary>
    public long Packets(string flow)
    {
        string dump = Ok("dump-flows");
        var line = Assert.Single(dump.Split('\n'), l => l.Contains(flow, StringComparison.Ordinal));
        return long.Parse(NPackets().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (or fails the test after 20 s).</summary>
    public static Task Eventually(Func<bool> condition, string what) =>
        TestSupport.Waiting.Eventually.Until(condition, what, TimeSpan.FromSeconds(20));

    /// <summary>Asks the datapath to exit and waits for the run to end; its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        Ok("exit");
        return await _run!.WaitAsync(Patience).ConfigureAwait(false);
    }

    /// <summary>Waits for the run to end (after an exit sent some other way); its exit code.</summary>
    public Task<int> WaitForExitAsync() => _run!.WaitAsync(Patience);

    /// <summary>Sends raw request lines on one connection and reads one response line per request.</summary>
    public async Task<List<JsonElement>> RawAsync(IEnumerable<string> lines, int responses)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket)).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket);
        var writer = Task.Run(async () =>
        {
            foreach (string line in lines)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n")).ConfigureAwait(false);
            }
        });
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answers = new List<JsonElement>();
        using var cancel = new CancellationTokenSource(Patience);
        while (answers.Count < responses && await reader.ReadLineAsync(cancel.Token).ConfigureAwait(false) is { } line)
        {
            answers.Add(JsonDocument.Parse(line).RootElement.Clone());
        }

        await writer.ConfigureAwait(false);
        return answers;
    }

    public async ValueTask DisposeAsync()
    {
        if (_run is { IsCompleted: false } && File.Exists(Socket))
        {
            Call("exit");
            await _run.WaitAsync(Patience).ConfigureAwait(false);
        }

        Scratch.Dispose();
    }

    /// <summary>Starts the run and returns once it serves its control socket and traffic flows; fails the test if the run ends first.</summary>
    public async Task StartAndWaitAsync()
    {
        _run = StartRun();
        // Up once the socket answers and the generator's traffic is flowing through the tables.
        await Eventually(() => _run.IsCompleted || (File.Exists(Socket) && Call("pmd-stats-show").Exit == 0), "the control socket").ConfigureAwait(false);
        await Eventually(() => _run.IsCompleted || ReceivedPackets().Any(), "traffic").ConfigureAwait(false);
        Assert.False(_run.IsCompleted, "run ended early: " + Error);
    }

    private IEnumerable<long> ReceivedPackets() =>
        Json("pmd-stats-show").GetProperty("pmds").EnumerateArray()
            .Select(p => p.GetProperty("pipeline").GetProperty("packets_received").GetInt64()).Where(n => n > 0);

    [GeneratedRegex(@"n_packets=(\d+)")]
    private static partial Regex NPackets();
}
