using System.Globalization;
using Datapath.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// Every command with each option given odd values (negative, 0, huge, not a number, empty, missing,
/// repeated, unknown, paths that do not exist or are directories or devices): success, or exit 1 or 2
/// with a short error on stderr and no exception or stack trace anywhere. Values are chosen to be
/// refused before anything long starts: `run` always carries one refused value, control commands
/// point at a socket that does not exist, replay runs --inline on the small icmp.pcap.
/// </summary>
public sealed class CommandLineFuzzTests : IClassFixture<CommandLineFuzzTests.Scratch>
{
    private static readonly string Capture = TestData.Capture("icmp.pcap");
    private static readonly string Flows = TestData.Capture("firewall.flows");
    private static readonly string NoSocket = "/nonexistent/ovs-actors.ctl";

    /// <summary>Where the output options (--verdicts, --verdicts-dir, --tx-pcap-dir) may write: they get no other path, since an odd one would really be written (run as root, anywhere).</summary>
    private static readonly string Outputs = Directory.CreateTempSubdirectory("cli-fuzz-").FullName;

    /// <summary>Removes <see cref="Outputs"/> once every case ran.</summary>
    public sealed class Scratch : IDisposable
    {
        public void Dispose() => Directory.Delete(Outputs, recursive: true);
    }

    /// <summary>Output paths: a directory, a file, one under a missing directory, one under a file, empty.</summary>
    private static string[] OutputValues() =>
    [
        Outputs, Path.Combine(Outputs, "out"), Path.Combine(Outputs, "missing", "out"), Path.Combine(Outputs, "file"), Path.Combine(Outputs, "file", "under"), string.Empty,
    ];

    /// <summary>Odd values for any option: numbers out of every range, words, empty, paths that are not files.</summary>
    private static readonly string[] OddValues =
    [
        "-1", "0", "1", "65536", "2147483648", "-2147483649", "9223372036854775808", "1e300", "NaN", "Infinity", "-0", "0x10", " 7 ",
        "", "abc", "-", "--", "--help-me", "/", "/tmp", "/nonexistent/file", "/dev/null", "/dev/zero", "a\nb", "tcp:127.0.0.1:0",
        "02:00:00:00:00:0g", "zone=5", "trk,est", new string('x', 5000),
    ];

    public static TheoryData<string[]> Cases()
    {
        var cases = new TheoryData<string[]>
        {
            // The root and help.
            new[] { "--help" }, new[] { "--bogus" }, new[] { "bogus-command" }, new[] { "run", "--help" },
            new[] { "--pmds", "0" }, new[] { "--duration", "-1", "--control", "off" },
        };

        // run: each option odd, with --pmds 0 or --connections 0 keeping it from starting when the odd value is accepted.
        foreach (string value in OddValues)
        {
            cases.Add(["run", "--duration", value, "--pmds", "0", "--control", "off"]);
            cases.Add(["run", "--pmds", value, "--connections", "0", "--control", "off"]);
            cases.Add(["run", "--connections", value, "--pmds", "0", "--control", "off"]);
            cases.Add(["run", "--metrics-port", value, "--pmds", "0", "--control", "off"]);
            cases.Add(["run", "--config", value, "--pmds", "0", "--control", "off"]);
            cases.Add(["run", "--bypass", value, "--pmds", "0"]);
            cases.Add(["run", "--format", value, "--pmds", "0"]);
            cases.Add(["run", "--until-interrupted", value, "--pmds", "0"]);
            cases.Add(["run", "--openflow-port", value == "1" ? "0" : value, "--duration", "0.001", "--control", "off", "--config", "/nonexistent/x.conf"]);
            cases.Add(["run", "--controller", value, "--duration", "0.001", "--control", "off", "--pmds", "1", "--connections", "0"]);
        }

        cases.Add(["run", "--pmds"]);
        cases.Add(["run", "--pmds", "1", "--pmds", "2", "--connections", "0"]);
        cases.Add(["run", "--duration", "0.5", "--duration", "NaN"]);
        cases.Add(["run", "--openflow-port", "70000", "--duration", "0.001", "--control", "off"]);
        cases.Add(["run", "--openflow-port", "0", "--duration", "0.001", "--control", "off"]);
        cases.Add(["run", "--controller", "tcp:127.0.0.1:0", "--duration", "0.001", "--control", "off"]);
        cases.Add(["run", "--controller", "ssl:1.2.3.4:6653", "--duration", "0.001", "--control", "off"]);

        foreach (string value in OddValues)
        {
            cases.Add(["parse-pcap", value]);
            cases.Add(["ct-pcap", value]);
            cases.Add(["ct-pcap", Capture, value]);
            // A flow file of /dev/zero is read up to FlowFileText's bound (256 MiB) once per command
            // that reads one: twice here, not for every command, to keep the test's memory low.
            if (value != "/dev/zero")
            {
                cases.Add(["trace", value, "in_port=1,ip"]);
                cases.Add(["replay", "--pcap", Capture, "--inline", "--flows", value]);
                cases.Add(["replace-flows", value, "--target", NoSocket]);
            }

            cases.Add(["dump-flows", value]);
            cases.Add(["dump-flows", "in_port=1", "--target", value]);
            cases.Add(["show", "--target", value]);
            cases.Add(["add-flows", value, "--target", NoSocket]);
            cases.Add(["replay", "--pcap", value, "--inline"]);

            cases.Add(["dump-flows", Flows, "--format", value]);
            cases.Add(["trace", Flows, value]);
            cases.Add(["trace", Flows, "in_port=1,ip", value]);
            cases.Add(["trace", Flows, "in_port=1,ip", "--ports", value]);
            cases.Add(["trace", Flows, "in_port=1,ct_state=-trk,tcp", "--ct-next", value]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--pmds", value]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--nodes", value]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--port1-mac", value]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--flush-conntrack", value]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--config", value]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--bypass", value]);
            cases.Add(["replay-node", "--seed", value, "--config", "/nonexistent/x.conf"]);
            cases.Add(["replay-node", "--seed", "akka.tcp://datapath@127.0.0.1:4053", "--config", value == "/dev/null" ? "/tmp" : value]);
            cases.Add(["add-flow", value, "--target", NoSocket]);
            cases.Add(["del-flows", value, "--target", NoSocket, "--strict"]);
            cases.Add(["dump-conntrack", value, "--target", NoSocket]);
            cases.Add(["dpctl/ct-set-maxconns", value, "--target", NoSocket]);
            cases.Add(["pmd-stats-show", "--target", NoSocket, "--format", value]);
            cases.Add(["ofproto/trace", value, "--target", NoSocket, "--ct-next", value]);
        }

        foreach (string output in OutputValues())
        {
            cases.Add(["replay", "--pcap", Capture, "--inline", "--verdicts", output]);
            cases.Add(["replay", "--pcap", Capture, "--pcap", Capture, "--inline", "--verdicts-dir", output]);
            cases.Add(["replay", "--pcap", Capture, "--inline", "--tx-pcap-dir", output]);
        }

        cases.Add(["replay"]);
        cases.Add(["replay", "--pcap"]);
        cases.Add(["replay", "--pcap", Capture, "--inline", "--pmds", "2", "--pmds", "3"]);
        cases.Add(["replay", "--pcap", Capture, "--inline", "--port1-mac", "02:00:00:00:00:02"]);
        cases.Add(["replay", "--pcap", Capture, "--nodes", "2", "--inline"]);
        cases.Add(["replay", "--pcap", Capture, "--verdicts", Path.Combine(Outputs, "x"), "--verdicts-dir", Outputs]);
        cases.Add(["replay-node"]);
        cases.Add(["ct-pcap"]);
        cases.Add(["trace", Flows]);
        cases.Add(["add-port", "p1", "--target", NoSocket]);
        cases.Add(["del-port", "--target", NoSocket]);
        cases.Add(["mod-flows", "--target", NoSocket]);
        cases.Add(["exit", "extra", "--target", NoSocket]);
        cases.Add(["list-commands", "--target", "/tmp"]);
        cases.Add(["show", "--target", Flows]);
        cases.Add(["show", "--target"]);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_odd_value_gives_success_or_a_short_clean_error(string[] args)
    {
        File.WriteAllText(Path.Combine(Outputs, "file"), "not a directory");
        AssertClean(args, "case");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(20261204)]
    public void Random_mixes_of_odd_values_give_success_or_a_short_clean_error(int seed)
    {
        var random = new Random(seed);
        // Not the rows with an output option: an odd value put after it would be written to.
        var commands = ((IEnumerable<object[]>)Cases()).Select(row => row is [string[] args] ? args : row.Cast<string>().ToArray())
            .Where(args => !args.Any(a => a is "--verdicts" or "--verdicts-dir" or "--tx-pcap-dir")).ToArray();
        for (int i = 0; i < 60; i++)
        {
            // A fixed case with one more option of its command (or a stray one) given an odd value.
            var args = commands[random.Next(commands.Length)].ToList();
            string option = args[0] switch
            {
                "run" => Pick(random, "--duration", "--pmds", "--connections", "--metrics-port", "--bypass", "--format", "--bogus"),
                "replay" => Pick(random, "--pmds", "--nodes", "--port1-mac", "--port2-mac", "--flush-conntrack", "--bypass", "--bogus"),
                "trace" => Pick(random, "--ports", "--ct-next", "--bogus"),
                _ => Pick(random, "--format", "--target", "--bogus"),
            };
            if (args[0] == "run" && !args.Contains("--pmds"))
            {
                // Whatever the random value, `run` must not start: --pmds 0 is always refused.
                args.AddRange(["--pmds", "0"]);
            }

            args.AddRange(option == "--target" ? ["--target", NoSocket] : [option, OddValues[random.Next(OddValues.Length)]]);

            AssertClean([.. args], string.Create(CultureInfo.InvariantCulture, $"seed {seed} case {i}"));
        }
    }

    private static void AssertClean(string[] args, string what)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit;
        try
        {
            exit = Program.Run(args, output, error);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {Show(args)} threw {e.GetType().Name}: {e.Message}");
        }

        string all = output.ToString() + error.ToString();
        string shown = $"{what}: {Show(args)} -> exit {exit}, stderr: {Cut(error.ToString())}";
        Assert.True(exit is 0 or 1 or 2, shown);
        foreach (string leak in new[] { "Exception", "   at ", "System." })
        {
            Assert.False(all.Contains(leak, StringComparison.Ordinal), shown);
        }

        if (exit != 0)
        {
            var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length is >= 1 and <= 3, shown);
        }
    }

    private static string Pick(Random random, params string[] values) => values[random.Next(values.Length)];

    private static string Show(string[] args) => string.Join(' ', args.Select(a => $"'{Cut(a)}'"));

    private static string Cut(string text) => text.Length > 200 ? text[..200] + "..." : text;
}
