using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Host.Control;
using Host.Tests.Support;

namespace Host.Tests.Control;

/// <summary>
/// The server on its own, with a handler that counts what it produces: silent clients cannot lock
/// others out, idle ones are dropped, a streamed answer stops when its client leaves and waits for
/// a slow one, and stopping the server never waits for a client that does not read.
/// </summary>
public sealed class ControlServerTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly ScratchDirectory _scratch = new();
    private readonly CountingHandler _handler = new();
    private ControlServer? _server;

    private string SocketPath => Path.Combine(_scratch.Path, "s", "x.ctl");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _scratch.Dispose();
    }

    [Fact]
    public async Task Twenty_silent_clients_do_not_lock_out_a_client_with_a_request()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        var silent = new List<Socket>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                silent.Add(await ConnectAsync());
            }

            // The last four each took the place of the one silent the longest.
            await RunningDatapath.Eventually(() => _server!.Evictions >= 4, "four silent clients evicted");

            using var client = await ConnectAsync();
            var answer = await RequestLineAsync(client, "echo", "hello");
            Assert.Equal("hello", answer.GetProperty("result").GetProperty("text").GetString());
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_client_silent_past_the_idle_timeout_is_disconnected_even_in_the_middle_of_a_request()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMilliseconds(300));
        using var silent = await ConnectAsync();
        using var halfway = await ConnectAsync();
        await halfway.SendAsync("{\"method\":\"echo\",\"par"u8.ToArray());

        Assert.Equal(0, await silent.ReceiveAsync(new byte[16]).WaitAsync(Patience));
        Assert.Equal(0, await halfway.ReceiveAsync(new byte[16]).WaitAsync(Patience));
    }

    [Fact]
    public async Task A_streamed_answer_stops_when_its_ovs_appctl_client_hangs_up()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        using (var client = await ConnectAsync())
        {
            await client.SendAsync(OvsJsonRpc.Request("endless", ["1000"], 0));
            // The answer's start may arrive in pieces: read until it is whole, then on past 10,000 bytes.
            const string Prefix = "{\"id\":0,\"result\":\"xxx";
            var buffer = new byte[4096];
            var head = new StringBuilder();
            int read = 0;
            while (head.Length < Prefix.Length)
            {
                int n = await client.ReceiveAsync(buffer);
                Assert.True(n > 0, "the server closed the connection before the answer's start");
                head.Append(Encoding.UTF8.GetString(buffer, 0, n));
                read += n;
            }

            Assert.StartsWith(Prefix, head.ToString(), StringComparison.Ordinal);
            while (read < 10_000)
            {
                read += await client.ReceiveAsync(buffer);
            }
        }

        // The producer's finally ran: the enumeration was stopped, nothing more is asked for.
        await _handler.Ended.Task.WaitAsync(Patience);
        Assert.True(_handler.Produced > 0);
    }

    [Fact]
    public async Task A_client_that_does_not_read_its_answer_does_not_hold_up_the_server_stopping()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        using var client = await ConnectAsync();

        // One chunk of 4 MB is more than the socket buffers hold: the server is stuck writing it.
        await client.SendAsync(JsonRpc.Request("endless", ["4194304"], 1, ReplyFormat.Text));
        await RunningDatapath.Eventually(() => _handler.Produced >= 1, "the first chunk produced");

        await _server!.DisposeAsync().AsTask().WaitAsync(Patience);

        await _handler.Ended.Task.WaitAsync(Patience);
        Assert.Equal(1, _handler.Produced);
        Assert.Equal(0, _server.ActiveConnections);
    }

    [Fact]
    public async Task A_slow_reader_paces_the_stream_and_gets_all_of_it_in_order()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        using var client = await ConnectAsync();
        await client.SendAsync(JsonRpc.Request("counted", ["200"], 7, ReplyFormat.Text));

        var lines = await ReadLinesAsync(client, until: l => l.Contains("\"result\"", StringComparison.Ordinal));

        var partials = lines.Where(l => l.Contains("\"partial\"", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("partial").GetProperty("text").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"line {i}\n"), partials);
        Assert.Equal(200, _handler.Produced);
    }

    [Fact]
    public async Task Two_ovs_requests_back_to_back_without_a_delimiter_get_two_answers_with_their_ids()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        using var client = await ConnectAsync();
        byte[] both = [.. OvsJsonRpc.Request("echo", ["a"], 5), .. "\n  "u8.ToArray(), .. OvsJsonRpc.Request("nosuch", [], 6)];
        await client.SendAsync(both);

        string text = await ReadUntilAsync(client, "\"id\":6");

        Assert.Equal("{\"id\":5,\"result\":\"a\\n\",\"error\":null}{\"id\":6,\"result\":null,\"error\":\"no such command nosuch\\n\"}", text);
    }

    [Fact]
    public async Task A_first_request_whose_member_name_escapes_a_lone_surrogate_gets_a_parse_error()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        using var client = await ConnectAsync();

        // Telling the framing compared this name with "jsonrpc", which threw and dropped the client unanswered.
        await client.SendAsync("{\"jsonrp\\udc00c\":\"2.0\",\"method\":\"echo\",\"params\":[],\"id\":1}\n"u8.ToArray());
        var lines = await ReadLinesAsync(client, until: _ => true);

        using var answer = JsonDocument.Parse(lines[0]);
        Assert.Equal(JsonRpcCodes.ParseError, answer.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_first_request_of_nothing_but_whitespace_is_bounded_like_any_request()
    {
        Start(maxConnections: 16, idle: TimeSpan.FromMinutes(10));
        using var client = await ConnectAsync();

        // Telling the framing waited for a first non-blank byte and kept every blank one meanwhile.
        var blanks = new byte[(1 << 20) + 4096];
        Array.Fill(blanks, (byte)' ');
        await client.SendAsync(blanks);
        var lines = await ReadLinesAsync(client, until: _ => true);

        using var answer = JsonDocument.Parse(lines[0]);
        Assert.Equal(JsonRpcCodes.RequestTooLarge, answer.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    private void Start(int maxConnections, TimeSpan idle)
    {
        var listener = ControlSocket.Listen(SocketPath, 128);
        _server = ControlServer.Start(listener, SocketPath, _handler, new ControlServerOptions(maxConnections, 1 << 20, idle), new VlogModules(TextWriter.Null));
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    private static async Task<JsonElement> RequestLineAsync(Socket client, string method, params string[] args)
    {
        await client.SendAsync(JsonRpc.Request(method, args, 1, ReplyFormat.Text));
        var lines = await ReadLinesAsync(client, until: _ => true);
        return JsonDocument.Parse(lines[0]).RootElement.Clone();
    }

    private static async Task<List<string>> ReadLinesAsync(Socket client, Func<string, bool> until)
    {
        using var cancel = new CancellationTokenSource(Patience);
        using var reader = new StreamReader(new NetworkStream(client, ownsSocket: false), Encoding.UTF8);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            lines.Add(line);
            if (until(line))
            {
                break;
            }

            // A slow reader: the server may write only as fast as this.
            await Task.Yield();
        }

        return lines;
    }

    /// <summary>Reads until the text holds <paramref name="last"/> and ends a JSON object.</summary>
    private static async Task<string> ReadUntilAsync(Socket client, string last)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(Patience);
        while (!(text.ToString().Contains(last, StringComparison.Ordinal) && text.ToString().EndsWith('}')))
        {
            int n = await client.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
            Assert.True(n > 0, "closed early: " + text);
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    /// <summary>echo ARGS; endless SIZE (chunks of SIZE bytes forever); counted N (N lines); anything else an error.</summary>
    private sealed class CountingHandler : IControlHandler
    {
        private long _produced;

        public long Produced => Interlocked.Read(ref _produced);

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<ControlReply> HandleAsync(string method, IReadOnlyList<string> args, CancellationToken cancellation) => method switch
        {
            "echo" => Task.FromResult(new ControlReply(string.Join(' ', args))),
            "endless" => Task.FromResult(new ControlReply(string.Empty) { Stream = new ReplyStream("items", Chunks(int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture), null, cancellation)) }),
            "counted" => Task.FromResult(new ControlReply(string.Empty) { Stream = new ReplyStream("items", Chunks(0, int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture), cancellation)) }),
            _ => throw new ControlException(JsonRpcCodes.MethodNotFound, $"no such command {method}"),
        };

        private async IAsyncEnumerable<ReplyChunk> Chunks(int size, int? count, [EnumeratorCancellation] CancellationToken cancellation)
        {
            try
            {
                for (int i = 0; count is null || i < count; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    Interlocked.Increment(ref _produced);
                    yield return new ReplyChunk(count is null ? new string('x', size - 1) + "\n" : $"line {i}\n", [i]);
                    await Task.Yield();
                }
            }
            finally
            {
                Ended.TrySetResult();
            }
        }
    }
}
