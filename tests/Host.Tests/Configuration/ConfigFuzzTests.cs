using System.Globalization;
using System.Text;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Host.Tests.Configuration;

/// <summary>
/// A configuration file is untrusted input: valid configurations (the embedded default, the
/// repository's hocon/*.conf, configurations the other tests write), mutated at random (seeded, so
/// a failure replays), are either read or refused with a <see cref="ConfigurationException"/>
/// naming the file, on one line; never another exception, a stack overflow or a hang.
/// </summary>
public sealed class ConfigFuzzTests : IDisposable
{
    private const int CasesPerSeed = 600;

    private readonly string _dir = Directory.CreateTempSubdirectory("dp-config-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<int> Seeds() => new() { 1, 2, 3, 4, 20261204 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Mutated_configurations_are_read_or_refused_with_a_configuration_error(int seed)
    {
        var random = new Random(seed);
        var corpus = Corpus();
        int read = 0;
        int refused = 0;
        for (int i = 0; i < CasesPerSeed; i++)
        {
            string text = corpus[random.Next(corpus.Count)];
            int mutations = random.Next(4);
            for (int m = 0; m < mutations; m++)
            {
                text = Mutate(text, random);
            }

            if (Outcome(text, $"seed {seed} case {i}"))
            {
                read++;
            }
            else
            {
                refused++;
            }
        }

        // Both outcomes, many times: a fuzz that only ever hits one says little of the other.
        Assert.True(read >= CasesPerSeed / 10, $"seed {seed}: only {read} of {CasesPerSeed} read");
        Assert.True(refused >= CasesPerSeed / 10, $"seed {seed}: only {refused} of {CasesPerSeed} refused");
    }

    [Fact]
    public void Every_seed_configuration_is_read()
    {
        foreach (string text in Corpus())
        {
            Assert.True(Outcome(text, "seed corpus"), Show(text));
        }
    }

    /// <summary>True when <paramref name="text"/> is read, false when it is refused as it should be; fails the test otherwise.</summary>
    private bool Outcome(string text, string what)
    {
        string path = Path.Combine(_dir, "fuzz.conf");
        File.WriteAllText(path, text);
        var attempt = Task.Run(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));
        try
        {
            // A hang is a failure too (an unclosed '[' once made the parser loop forever).
            if (!attempt.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new Xunit.Sdk.XunitException($"{what}: no answer in 30 s for:\n{Show(text)}");
            }

            return true;
        }
        catch (AggregateException e) when (e.InnerException is ConfigurationException error)
        {
            Assert.True(error.Message.StartsWith(path + ": ", StringComparison.Ordinal), $"{what}: {error.Message}");
            Assert.False(error.Message.Contains('\n', StringComparison.Ordinal), $"{what}: message over several lines: {error.Message}");
            Assert.True(error.Message.Length < path.Length + 400, $"{what}: message of {error.Message.Length} characters");
            return false;
        }
        catch (AggregateException e)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {e.InnerException!.GetType().Name}: {e.InnerException.Message}\n{e.InnerException.StackTrace}\nfor:\n{Show(text)}");
        }
    }

    private static List<string> Corpus()
    {
        string root = Path.GetDirectoryName(Path.GetDirectoryName(TestData.Root))!;
        var corpus = new List<string> { DatapathConfig.EmbeddedText() };
        corpus.AddRange(Directory.EnumerateFiles(Path.Combine(root, "hocon"), "*.conf").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        corpus.AddRange(
        [
            // As the settings tests write them.
            "datapath.emc-entries = 1024\n",
            "datapath.pmds = 2\ndatapath.conntrack.shards = 3\n",
            "datapath {\n  conntrack {\n    zone-limits { 5 = 1000, 7 = 200 }\n    timeout-policies {\n      short-udp { udp_first = 5, udp_multiple = 10 }\n    }\n    zone-timeout-policies { 7 = short-udp }\n  }\n}\n",
            "datapath.openflow {\n  listen-port = 6653\n  controllers = [\"tcp:127.0.0.1:6654\", \"tcp:127.0.0.1:6655\"]\n  probe-interval = 2s\n  max-backoff = 4s\n  max-connections = 3\n}\n",
            "datapath.metrics { enabled = on, port = 9100, timeout = 2s }\n",
            "datapath.ports = system\ndatapath.system { port1 = veth0, port2 = veth1 }\n",
            "datapath.ports = pcap\ndatapath.pcap { rx = \"in.pcap\", tx-port1 = \"out1.pcap\", loop = on }\n",
            "datapath.generator { connections = 10, tcp-percent = 100, udp-percent = 0, icmp-percent = 0, duration = 500ms }\n",
            "datapath.control { socket = off, max-request-bytes = 2048, request-timeout = 1s }\n",
            "akka.loglevel = DEBUG\n",
            "akka.base = 5\nakka.extra = ${akka.base}\n",
        ]);
        return corpus;
    }

    /// <summary>Values where one is expected: out of range, of the wrong kind, broken, self-referring.</summary>
    private static readonly string[] OddValues =
    [
        "-1", "0", "1", "2", "64", "1024", "65536", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "1e400", "NaN", "Infinity", "-0", "1.5", "0x10", "+5", "\"\"", "abc", "on", "off", "maybe", "null",
        "[]", "[1, 2]", "[[1]]", "[null]", "[\"a\", {}]", "{}", "{ a = 1 }", "-1s", "0s", "1ms", "100ms", "10s", "1000000d", "1 fortnight",
        "9223372036854775807d", "2592001", "\"a\\nb\"", "\"\\u0000\"", "\"tab\\there\"", "1 2 3", "${nope}", "${?nope}", "${akka.loglevel}",
        "\"${x}\"", "generator", "pcap", "system", "megaflow", "0x6", "00004f5653414354", "tcp:127.0.0.1:6653", "[\"tcp:127.0.0.1:6653\"]",
        "\"/nonexistent/dir/file\"", "/tmp", "\"", "{", "[", "}", "]", "=", "#", "//x",
    ];

    private static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        int at = random.Next(lines.Count);
        switch (random.Next(12))
        {
            case 0:
            case 1:
            case 2:
            case 3:
                // A value replaced: the key of a `key = value` line keeps its place.
                int eq = lines[at].IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && !lines[at].TrimStart().StartsWith('#'))
                {
                    string key = lines[at][..eq].Trim();
                    string value = random.Next(10) == 0 ? "${" + key + "}" : OddValues[random.Next(OddValues.Length)];
                    lines[at] = lines[at][..(eq + 1)] + " " + value;
                }

                break;
            case 4:
                lines.Insert(at, lines[random.Next(lines.Count)]);
                break;
            case 5:
                lines.RemoveAt(at);
                break;
            case 6:
                lines.Insert(at, random.Next(3) switch
                {
                    0 => "include \"missing.conf\"",
                    1 => "include file(\"/nonexistent/x.conf\")",
                    _ => "datapath.pmds = ${" + (random.Next(2) == 0 ? "datapath.pmds" : "no.such.key") + "}",
                });
                break;
            case 7:
                int depth = random.Next(2) == 0 ? random.Next(1, 80) : random.Next(1000, 20000);
                lines.Insert(at, random.Next(3) switch
                {
                    0 => "akka.deep = " + Repeat("{ a = ", depth) + "1" + Repeat("}", depth),
                    1 => "akka.deep = " + Repeat("[", depth) + "1" + Repeat("]", depth),
                    _ => "akka" + Repeat(".a", depth) + " = 1",
                });
                break;
            case 8:
                int length = random.Next(2) == 0 ? random.Next(1, 200) : random.Next(10_000, 200_000);
                string text8 = new((char)random.Next('a', 'z' + 1), length);
                lines.Insert(at, random.Next(3) switch
                {
                    0 => "datapath.ports = \"" + text8 + "\"",
                    1 => "datapath." + text8 + " = 1",
                    _ => "datapath.openflow.controllers = [\"" + text8 + "\"]",
                });
                break;
            case 9:
                // Truncated anywhere.
                return text[..random.Next(text.Length + 1)];
            case 10:
                // One character replaced by one that matters to the parser.
                if (text.Length > 0)
                {
                    var chars = new StringBuilder(text);
                    chars[random.Next(text.Length)] = "{}[]\"$=:#.,\n\\"[random.Next(13)];
                    return chars.ToString();
                }

                break;
            default:
                // A chain of substitutions, short or long, ending where a setting is read.
                int chain = random.Next(2) == 0 ? random.Next(1, 30) : random.Next(60, 2000);
                var links = new StringBuilder("akka.c0 = 2\n");
                for (int i = 1; i <= chain; i++)
                {
                    links.Append(CultureInfo.InvariantCulture, $"akka.c{i} = ${{akka.c{i - 1}}}\n");
                }

                lines.Insert(at, links.Append(CultureInfo.InvariantCulture, $"datapath.pmds = ${{akka.c{chain}}}").ToString());
                break;
        }

        return string.Join('\n', lines);
    }

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    private static string Show(string text) => text.Length > 2000 ? text[..2000] + "..." : text;
}
