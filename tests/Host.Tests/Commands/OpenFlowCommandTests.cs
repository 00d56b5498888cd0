using Host.Commands;

namespace Host.Tests.Commands;

public sealed class OpenFlowCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("of-cmd").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private FileInfo Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return new FileInfo(path);
    }

    private const string Firewall =
        "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)\n" +
        "table=0, priority=10,arp actions=NORMAL\n" +
        "table=0, priority=1 actions=drop\n" +
        "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2\n" +
        "table=1, ct_state=+new+trk,ip,in_port=2 actions=drop\n" +
        "table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2\n" +
        "table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1\n";

    [Fact]
    public void Dump_flows_prints_the_file_normalised()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int rc = DumpFlowsCommand.Run(Write("fw.flows", Firewall), withStats: false, output, error);
        Assert.Equal(0, rc);
        Assert.Equal(
            " priority=100,ct_state=-trk,ip actions=ct(table=1)\n" +
            " priority=10,arp actions=NORMAL\n" +
            " priority=1 actions=drop\n" +
            " table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2\n" +
            " table=1, ct_state=+new+trk,ip,in_port=2 actions=drop\n" +
            " table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2\n" +
            " table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1\n",
            output.ToString());
        Assert.Empty(error.ToString());
    }

    [Fact]
    public void Dump_flows_with_a_bad_line_exits_1_naming_file_line_and_column()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int rc = DumpFlowsCommand.Run(Write("bad.flows", "in_port=1 actions=output:2\nip,tp_dst=80 actions=drop\n"), withStats: true, output, error);
        Assert.Equal(1, rc);
        Assert.Empty(output.ToString());
        Assert.Equal("bad.flows:2:4: tp_dst: prerequisites not met: needs tcp, udp or sctp (or tcp6, udp6, sctp6)" + Environment.NewLine, error.ToString());
    }

    [Fact]
    public void Trace_follows_the_recirculation_with_the_given_ct_state()
    {
        var output = new StringWriter();
        int rc = TraceCommand.Run(Write("fw.flows", Firewall), "in_port=2,tcp,nw_src=10.0.0.2,nw_dst=10.0.0.1", null, ["trk,est"], "1,2", output, new StringWriter());
        Assert.Equal(0, rc);
        string text = output.ToString();
        Assert.Contains("recirc(0x1) - resume conntrack with ct_state=est|trk\n", text, StringComparison.Ordinal);
        Assert.EndsWith("Megaflow: recirc_id=0x1,ct_state=-new+est+trk,eth,ip,in_port=2,nw_frag=no\nDatapath actions: 1" + Environment.NewLine, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_rejects_a_bad_flow()
    {
        var error = new StringWriter();
        int rc = TraceCommand.Run(Write("fw.flows", Firewall), "in_port=1,bogus=3", null, [], "1,2", new StringWriter(), error);
        Assert.Equal(1, rc);
        Assert.Contains("unknown field 'bogus'", error.ToString(), StringComparison.Ordinal);
    }
}
