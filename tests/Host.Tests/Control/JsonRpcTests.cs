using System.Buffers;
using System.Text;
using System.Text.Json;
using Host.Control;

namespace Host.Tests.Control;

/// <summary>The wire format and argument parsing of the control channel, without a datapath.</summary>
public sealed class JsonRpcTests
{
    [Theory]
    [InlineData("{", JsonRpcCodes.ParseError)]
    [InlineData("[]", JsonRpcCodes.InvalidRequest)]
    [InlineData("{\"method\":\"show\",\"id\":1}", JsonRpcCodes.InvalidRequest)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}", JsonRpcCodes.InvalidRequest)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"method\":\"show\",\"id\":{}}", JsonRpcCodes.InvalidRequest)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"method\":\"show\",\"params\":{\"a\":1},\"id\":1}", JsonRpcCodes.InvalidParams)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"method\":\"show\",\"params\":[true],\"id\":1}", JsonRpcCodes.InvalidParams)]
    public void A_malformed_request_is_refused_with_its_json_rpc_code(string line, int code)
    {
        var e = Assert.Throws<ControlException>(() => JsonRpc.Parse(Sequence(line), out _));

        Assert.Equal(code, e.Code);
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"\\ude00\"],\"id\":1}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[],\"id\":\"\\ud800\"}")]
    [InlineData("{\"id\":null,\"js\\ud800onrpc\":\"2.0\",\"method\":\"echo\"}")]
    public void A_request_escaping_a_lone_surrogate_is_a_parse_error(string line)
    {
        // The parser accepts the escape; reading the string threw InvalidOperationException and dropped the client.
        var e = Assert.Throws<ControlException>(() => JsonRpc.Parse(Sequence(line), out _));

        Assert.Equal(JsonRpcCodes.ParseError, e.Code);
        Assert.Contains("lone surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_with_bytes_that_are_not_utf8_in_a_string_is_a_parse_error()
    {
        // {"jsonrpc":"2.0","method":"echo","params":[],"id":"<e7>"}: the id, echoed raw, could not even be read.
        byte[] line = [.. "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[],\"id\":\""u8, 0xe7, .. "\"}"u8];

        var e = Assert.Throws<ControlException>(() => JsonRpc.Parse(new ReadOnlySequence<byte>(line), out _));

        Assert.Equal(JsonRpcCodes.ParseError, e.Code);
    }

    [Fact]
    public void A_request_round_trips_with_its_method_params_and_id()
    {
        string line = Encoding.UTF8.GetString(JsonRpc.Request("del-flows", ["in_port=1", "--strict"], 7)).TrimEnd('\n');

        var request = JsonRpc.Parse(Sequence(line), out var id);

        Assert.Equal("del-flows", request.Method);
        Assert.Equal(["in_port=1", "--strict"], request.Params);
        Assert.Equal("7", id);
    }

    [Fact]
    public void Responses_are_one_line_and_echo_the_id()
    {
        byte[] result = JsonRpc.Result("\"a\"", new ControlReply("line 1\nline 2\n", new { Count = 2 }));
        byte[] error = JsonRpc.Error(null, JsonRpcCodes.MethodNotFound, "no");

        Assert.Equal(1, result.Count(b => b == '\n'));
        using var r = JsonDocument.Parse(result);
        Assert.Equal("a", r.RootElement.GetProperty("id").GetString());
        Assert.Equal("line 1\nline 2\n", r.RootElement.GetProperty("result").GetProperty("text").GetString());
        Assert.Equal(2, r.RootElement.GetProperty("result").GetProperty("data").GetProperty("count").GetInt32());
        using var e = JsonDocument.Parse(error);
        Assert.Equal(JsonValueKind.Null, e.RootElement.GetProperty("id").ValueKind);
        Assert.Equal(JsonRpcCodes.MethodNotFound, e.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public void Arguments_separate_positionals_flags_and_repeated_valued_options()
    {
        var a = CommandArguments.Parse("ofproto/trace", ["in_port=1", "--ct-next", "trk,new", "--ct-next=trk,est", "abcd"], 1, 2, valued: ["--ct-next"]);

        Assert.Equal(["in_port=1", "abcd"], a.Positionals);
        Assert.Equal(["trk,new", "trk,est"], a.Values("--ct-next"));
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("a", "b")]
    public void Unknown_options_and_extra_arguments_are_bad_params(params string[] args)
    {
        var e = Assert.Throws<ControlException>(() => CommandArguments.Parse("del-flows", args, 0, 1, flags: ["--strict"]));

        Assert.Equal(JsonRpcCodes.InvalidParams, e.Code);
        Assert.StartsWith("del-flows: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dump_flows_line_splits_into_statistics_match_and_actions()
    {
        var line = FlowDumpLine.Parse(" cookie=0x0, duration=5.919s, table=1, n_packets=70836, n_bytes=4533504, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2");

        Assert.Equal(new FlowDumpLine(1, 70836, 4533504, "5.919s", "ct_state=+new+trk,ip,in_port=1", "ct(commit),output:2"), line);
    }

    [Fact]
    public void Tcp_flags_print_in_open_vswitch_order()
    {
        var sb = new StringBuilder();

        DpctlFlowText.AppendTcpFlags(sb, 0x01 | 0x02 | 0x08 | 0x10);

        Assert.Equal("SFP.", sb.ToString());
    }

    [Fact]
    public void Queue_q_of_every_port_is_served_by_pmd_q_mod_pmds()
    {
        var rows = RxqLayout.Assign([2, 1], queuesPerPort: 3, pmds: 2);

        Assert.Equal([(1u, 0), (1u, 2), (2u, 0), (2u, 2)], rows[0]);
        Assert.Equal([(1u, 1), (2u, 1)], rows[1]);
    }

    private static ReadOnlySequence<byte> Sequence(string text) => new(Encoding.UTF8.GetBytes(text));
}
