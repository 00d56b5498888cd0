using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Host.Control;
using Host.Tests.Support;

namespace Host.Tests.Control;

/// <summary>
/// Any local client may write to the control socket: requests mutated from real ones (seeded, so a
/// failure reproduces) with deep nesting, bad escapes, lone surrogates, bytes that are not UTF-8,
/// huge numbers and cut input must each parse or be refused with the framing's documented error
/// (<see cref="ControlException"/> for our lines, <see cref="OvsProtocolException"/> for
/// ovs-appctl's objects), and every answer the server would write for a request it took must be
/// JSON. Over a real socket, every such request is answered or its connection closed, and the
/// server never drops a client as a bug of its own.
/// </summary>
public sealed class JsonRpcFuzzTests : IAsyncDisposable
{
    private const int Inputs = 50_000;
    private const int SocketInputs = 2_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly byte[][] Tokens =
    [
        "\\"u8.ToArray(), "\""u8.ToArray(), "\\u"u8.ToArray(), "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), "\\ud83d\\ude00"u8.ToArray(),
        "\\x"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "1e999"u8.ToArray(), "-0"u8.ToArray(), "99999999999999999999999999"u8.ToArray(), "null"u8.ToArray(), "true"u8.ToArray(),
        [0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x00], [0x0a], [0x0d], [0x09],
        "\"jsonrpc\":\"2.0\","u8.ToArray(), "\"id\":"u8.ToArray(), "\"params\":"u8.ToArray(), "\"method\":"u8.ToArray(), "\"format\":"u8.ToArray(),
    ];

    private readonly ScratchDirectory _scratch = new();
    private ControlServer? _server;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _scratch.Dispose();
    }

    [Fact]
    public void Fifty_thousand_mutated_request_lines_parse_or_are_refused_with_a_json_rpc_error()
    {
        var corpus = LineCorpus();
        var random = new Random(41);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < Inputs; i++)
        {
            byte[] line = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            string? id = null;
            try
            {
                var request = JsonRpc.Parse(Split(line, random), out id);
                Assert.False(string.IsNullOrEmpty(request.Method));

                // The answers echo the id as it came: they must still be JSON.
                AssertJson(JsonRpc.Result(request.Id, new ControlReply(string.Join(' ', request.Params), request.Params), request.Format), i, line);
                AssertJson(JsonRpc.Error(request.Id, JsonRpcCodes.CommandFailed, "no"), i, line);
                parsed++;
            }
            catch (ControlException e)
            {
                AssertJson(JsonRpc.Error(id, e.Code, e.Message), i, line);
                refused++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(line)}");
            }
        }

        Assert.True(parsed > Inputs / 20, $"{parsed} parsed");
        Assert.True(refused > Inputs / 10, $"{refused} refused");
    }

    [Fact]
    public void Fifty_thousand_mutated_ovs_appctl_streams_are_framed_and_parse_or_are_a_protocol_error()
    {
        var corpus = OvsCorpus();
        var random = new Random(42);
        int parsed = 0;
        int refused = 0;
        int incomplete = 0;
        for (int i = 0; i < Inputs; i++)
        {
            byte[] json = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            try
            {
                // As the connection does: the object starts at a brace and is scanned across reads.
                int start = Array.FindIndex(json, b => b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'));
                if (start < 0 || json[start] != (byte)'{')
                {
                    refused++;
                    continue;
                }

                var rest = json.AsMemory(start);
                var scanner = new JsonObjectScanner();
                long length = 0;
                bool complete = false;
                for (int end = 0; !complete && end < rest.Length;)
                {
                    end = Math.Min(rest.Length, end + 1 + random.Next(rest.Length));
                    complete = scanner.TryComplete(Split(rest[..end].ToArray(), random), out length);
                }

                if (!complete)
                {
                    incomplete++;
                    continue;
                }

                Assert.InRange(length, 1, rest.Length);
                var request = OvsJsonRpc.Parse(Split(rest[..(int)length].ToArray(), random));
                AssertJson(OvsJsonRpc.Result(request.Id, string.Join(' ', request.Params ?? [])), i, json);
                AssertJson(OvsJsonRpc.Error(request.Id, request.Method), i, json);
                parsed++;
            }
            catch (OvsProtocolException)
            {
                refused++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(json)}");
            }
        }

        Assert.True(parsed > Inputs / 10, $"{parsed} parsed");
        Assert.True(refused > Inputs / 10, $"{refused} refused");
        Assert.True(incomplete > 0, "no input was left incomplete");
    }

    [Fact]
    public async Task Mutated_requests_over_the_socket_are_answered_or_closed_and_never_drop_a_client_as_a_bug()
    {
        var console = new StringWriter();
        var log = new VlogModules(TextWriter.Synchronized(console));
        var listener = ControlSocket.Listen(Path.Combine(_scratch.Path, "s", "x.ctl"), 128);
        _server = ControlServer.Start(listener, Path.Combine(_scratch.Path, "s", "x.ctl"), new EchoHandler(), new ControlServerOptions(16, 64 * 1024, TimeSpan.FromSeconds(20)), log);
        var lines = LineCorpus();
        var objects = OvsCorpus();
        var random = new Random(43);
        int answered = 0;
        for (int i = 0; i < SocketInputs; i++)
        {
            bool ovs = random.Next(2) == 0;
            var corpus = ovs ? objects : lines;
            byte[] request = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_scratch.Path, "s", "x.ctl")));
            int total = 0;
            try
            {
                byte[] bytes = ovs ? request : [.. request, (byte)'\n'];
                if (random.Next(4) == 0)
                {
                    // A second request behind it, as a client that does not wait for answers sends.
                    var next = corpus[random.Next(corpus.Length)];
                    bytes = [.. bytes, .. next, .. (ovs ? Array.Empty<byte>() : "\n"u8.ToArray())];
                }

                if (random.Next(6) == 0)
                {
                    // In small pieces: the framing resumes its scan across reads.
                    for (int at = 0; at < bytes.Length;)
                    {
                        int n = Math.Min(bytes.Length - at, 1 + random.Next(7));
                        await client.SendAsync(bytes.AsMemory(at, n));
                        at += n;
                    }
                }
                else
                {
                    await client.SendAsync(bytes);
                }

                // Our client's framing answers every line; ovs-appctl's answers or closes. Either way the
                // client's end of sending lets a cut request finish.
                client.Shutdown(SocketShutdown.Send);
                using var cancel = new CancellationTokenSource(Patience);
                var buffer = new byte[64 * 1024];
                while (await client.ReceiveAsync(buffer, SocketFlags.None, cancel.Token) is int n and > 0)
                {
                    total += n;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
            {
                // ovs-appctl's framing closes on a protocol error as lib/jsonrpc.c does, unread bytes and all.
            }

            answered += total > 0 ? 1 : 0;
            string said = console.ToString();
            int dropped = said.IndexOf("dropped", StringComparison.Ordinal);
            Assert.True(dropped < 0, dropped < 0 ? null : $"mutation {i} ({(ovs ? "ovs-appctl" : "line")}):\n{said[dropped..]}\n{Convert.ToHexString(request)}");
        }

        Assert.True(answered > SocketInputs / 4, $"{answered} answered");
    }

    private static void AssertJson(byte[] answer, int mutation, byte[] input)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
        }
        catch (JsonException e)
        {
            Assert.Fail($"mutation {mutation}: the answer is not JSON ({e.Message}): {Encoding.UTF8.GetString(answer)}\n{Convert.ToHexString(input)}");
        }
    }

    /// <summary>The bytes as a sequence of up to four segments, as a pipe hands them over.</summary>
    private static ReadOnlySequence<byte> Split(byte[] bytes, Random random)
    {
        int pieces = Math.Min(bytes.Length, random.Next(1, 5));
        if (pieces <= 1)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var cuts = Enumerable.Range(0, pieces - 1).Select(_ => random.Next(1, bytes.Length)).Distinct().Order().ToList();
        cuts.Add(bytes.Length);
        var first = new Segment(bytes.AsMemory(0, cuts[0]), 0);
        var last = first;
        for (int k = 1; k < cuts.Count; k++)
        {
            last = last.Append(bytes.AsMemory(cuts[k - 1], cuts[k] - cuts[k - 1]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static byte[][] LineCorpus()
    {
        var corpus = new List<byte[]>
        {
            JsonRpc.Request("echo", [], 1),
            JsonRpc.Request("ofctl/add-flow", ["br0", "in_port=1,actions=output:2"], 2, ReplyFormat.Text),
            JsonRpc.Request("dpctl/dump-conntrack", ["zone=5", "-m", "\"quoted\" \\ back\tslash"], 3, ReplyFormat.Json),
            JsonRpc.Request("vlog/set", ["control:console:dbg", "é ü 日本 😀"], long.MaxValue),
            Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"a\\u00e9\\ud83d\\ude00\\n\"],\"id\":\"x\"}"),
            Encoding.UTF8.GetBytes("{\"id\":null,\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[],\"format\":\"text\"}"),
            Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"],\"id\":-1.5e3}"),
            Encoding.UTF8.GetBytes("  {\"jsonrpc\" : \"2.0\" , \"method\" : \"echo\" }  "),
        };
        return [.. corpus.Select(b => b.AsSpan().TrimEnd((byte)'\n').ToArray())];
    }

    private static byte[][] OvsCorpus() =>
    [
        OvsJsonRpc.Request("echo", [], 0),
        OvsJsonRpc.Request("dpctl/dump-flows", ["-m", "a}\"{b"], 1),
        OvsJsonRpc.Request("ofctl/add-flow", ["br0", "ip,nw_src=10.0.0.1,actions=drop", "é 😀"], 2),
        Encoding.UTF8.GetBytes("{\"method\":\"echo\",\"params\":[\"\\u0041\\ud83d\\ude00\\\\\"],\"id\":\"s\"}"),
        Encoding.UTF8.GetBytes("{\"method\":\"echo\",\"params\":[[1],{\"a\":[]}],\"id\":7}"),
        Encoding.UTF8.GetBytes(" \n{ \"id\" : 3 , \"method\" : \"echo\" , \"params\" : [ ] , \"result\" : null }{\"method\":\"x\",\"params\":[],\"id\":4}"),
    ];

    /// <summary>A copy with bytes changed, tokens inserted, ranges cut, repeated or spliced, or a deep nest or a huge string added.</summary>
    private static byte[] Mutate(byte[] original, byte[][] corpus, Random random)
    {
        var bytes = new List<byte>(original);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            int at = random.Next(bytes.Count + 1);
            switch (random.Next(9))
            {
                case 0 or 1:
                    if (at < bytes.Count)
                    {
                        bytes[at] = (byte)random.Next(256);
                    }

                    break;
                case 2 or 3:
                    bytes.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 4:
                    bytes.RemoveRange(Math.Min(at, bytes.Count), Math.Min(1 + random.Next(12), bytes.Count - Math.Min(at, bytes.Count)));
                    break;
                case 5:
                    {
                        int from = random.Next(bytes.Count);
                        int count = Math.Min(1 + random.Next(30), bytes.Count - from);
                        bytes.InsertRange(at, bytes.GetRange(from, count));
                        break;
                    }

                case 6:
                    {
                        int depth = random.Next(4) == 0 ? 10_000 : random.Next(40);
                        byte open = random.Next(2) == 0 ? (byte)'[' : (byte)'{';
                        byte close = open == (byte)'[' ? (byte)']' : (byte)'}';
                        bytes.InsertRange(at, [.. Enumerable.Repeat(open, depth), .. Enumerable.Repeat(close, random.Next(2) == 0 ? depth : random.Next(depth + 1))]);
                        break;
                    }

                case 7:
                    {
                        // A long string or number: the escapes and digits parsers must bound.
                        var piece = random.Next(3) switch
                        {
                            0 => Enumerable.Repeat((byte)'9', 1 + random.Next(5000)),
                            1 => Enumerable.Range(0, 1 + random.Next(2000)).SelectMany(_ => "\\u0041"u8.ToArray()),
                            _ => Enumerable.Repeat((byte)'a', 1 + random.Next(20_000)),
                        };
                        bytes.InsertRange(at, piece);
                        break;
                    }

                default:
                    {
                        var other = corpus[random.Next(corpus.Length)];
                        int from = random.Next(other.Length);
                        bytes.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(60))).ToArray());
                        break;
                    }
            }
        }

        return [.. bytes];
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>echo ARGS answers them; anything else is an unknown command.</summary>
    private sealed class EchoHandler : IControlHandler
    {
        public Task<ControlReply> HandleAsync(string method, IReadOnlyList<string> args, CancellationToken cancellation) => method == "echo"
            ? Task.FromResult(new ControlReply(string.Join(' ', args), args))
            : throw new ControlException(JsonRpcCodes.MethodNotFound, $"no such command {method}");
    }
}
