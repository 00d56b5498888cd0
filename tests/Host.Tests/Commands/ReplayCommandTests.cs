using Datapath.Tests.Support;
using Host.Tests.Support;

namespace Host.Tests.Commands;

public sealed class ReplayCommandTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData("icmp")]
    [InlineData("tcp-rst")]
    public void Replay_on_the_embedded_firewall_prints_Open_vSwitch_verdicts(string capture)
    {
        var (exit, output, error) = Invoke("replay", SharedFiles.Capture(capture + ".pcap"));

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Equal(File.ReadAllText(SharedFiles.Capture(Path.Combine("expected", capture + ".verdict"))), output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_flow_file_replaces_the_embedded_firewall()
    {
        string flows = _scratch.Write("allow-all.flows", "in_port=1 actions=output:2\nin_port=2 actions=output:1\n");

        var (exit, output, _) = Invoke("replay", SharedFiles.Capture("tcp-reverse.pcap"), "--flows", flows);

        Assert.Equal(0, exit);
        Assert.DoesNotContain("drop", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_flow_file_exits_1_naming_file_line_and_column()
    {
        string flows = _scratch.Write("bad.flows", "in_port=1 actions=output:2\nin_prot=2 actions=output:1\n");

        var (exit, output, error) = Invoke("replay", SharedFiles.Capture("icmp.pcap"), "--flows", flows);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.StartsWith("bad.flows:2:1:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_capture_exits_1_naming_it()
    {
        string missing = Path.Combine(_scratch.Path, "absent.pcap");

        var (exit, _, error) = Invoke("replay", missing);

        Assert.Equal(1, exit);
        Assert.Contains("absent.pcap", error, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
