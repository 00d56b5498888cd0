using Datapath.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>The input files every command reads, named badly: refused in words, never read without end.</summary>
public sealed class InputFileTests
{
    [Theory]
    [InlineData("dump-flows")]
    [InlineData("trace")]
    [InlineData("replay")]
    [InlineData("add-flows")]
    public void A_flow_file_that_never_ends_is_read_up_to_its_bound_and_refused(string command)
    {
        // /dev/zero was read until memory ran out.
        string[] args = command switch
        {
            "trace" => ["trace", "/dev/zero", "in_port=1"],
            "replay" => ["replay", "--inline", "--pcap", TestData.Capture("icmp.pcap"), "--flows", "/dev/zero"],
            "add-flows" => ["add-flows", "/dev/zero", "--target", "/nonexistent/ovs-actors.ctl"],
            _ => [command, "/dev/zero"],
        };

        var (exit, _, error) = Invoke(args);

        Assert.Equal(1, exit);
        Assert.Equal($"{command}: /dev/zero: cannot be read (larger than 256 MiB, too large for a flow file)", error.Trim());
    }

    [Theory]
    [InlineData("add-flows", "", "add-flows: no file named (an empty path)")]
    [InlineData("replay", "--pcap", "replay: --pcap: no file named (an empty path) (ovs-actors replay --help lists the options)")]
    public void An_empty_path_is_refused_in_words(string command, string option, string expected)
    {
        string[] args = command == "replay" ? ["replay", "--inline", option, ""] : [command, "", "--target", "/nonexistent/ovs-actors.ctl"];

        var (exit, _, error) = Invoke(args);

        Assert.InRange(exit, 1, 2);
        Assert.Equal(expected, error.Trim());
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
