using System.Globalization;
using Actors.Pmd;
using Datapath.Bypass;
using Host.Configuration;
using Host.Tests.Support;

namespace Host.Tests.Configuration;

public sealed class DatapathSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_embedded_default_uses_Open_vSwitch_EMC_defaults()
    {
        var settings = DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName);

        // OVS: EM_FLOW_HASH_ENTRIES = 8192, DEFAULT_EM_FLOW_INSERT_INV_PROB = 100.
        Assert.Equal(8192, settings.Pmd.Core.EmcEntries);
        Assert.Equal(100, settings.Pmd.Core.EmcInsertInvProb);
        // Issue 5's main job: 1,000 connections both ways for 10 seconds on all cores.
        Assert.Equal(1000, settings.Generator.Profile.Connections);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Duration);
        Assert.Equal(Environment.ProcessorCount, settings.Pmds);
        Assert.Equal(settings.Pmds, settings.QueuesPerPort);
        Assert.Null(settings.FlowsPath);
        Assert.Equal(8, settings.Pmd.Core.MaxRecirculationDepth);
        Assert.Equal(10_000, settings.Pmd.Core.MegaflowIdleMs);
    }

    [Fact]
    public void The_embedded_default_written_as_a_user_file_is_read()
    {
        // Its `controllers = []` was refused as "has no value": Akka's IsArray() is false for an empty list.
        string path = Write(DatapathConfig.EmbeddedText());

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path);

        Assert.Empty(settings.OpenFlow.Controllers);
    }

    [Fact]
    public void A_user_file_overrides_only_the_keys_it_sets()
    {
        string path = Write("datapath.emc-entries = 1024\n");

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path);

        Assert.Equal(1024, settings.Pmd.Core.EmcEntries);
        Assert.Equal(100, settings.Pmd.Core.EmcInsertInvProb);
    }

    [Theory]
    [InlineData("datapath.emc-entries = 1000", "datapath.emc-entries", "power of two")]
    [InlineData("datapath.emc-entries = lots", "datapath.emc-entries", "not a whole number")]
    [InlineData("datapath.emc-insert-inv-prob = -1", "datapath.emc-insert-inv-prob", "outside")]
    [InlineData("datapath.generator.frame-size-min = 20", "datapath.generator.frame-size-min", "outside 64..1514")]
    [InlineData("datapath.generator.frame-size-max = 100\ndatapath.generator.frame-size-min = 200", "datapath.generator.frame-size-max", "below frame-size-min")]
    [InlineData("datapath.generator.tcp-percent = 90", "datapath.generator.tcp-percent", "add up to 110")]
    [InlineData("datapath.generator.connections = 0", "datapath.generator.connections", "outside")]
    [InlineData("datapath.generator.duration = soon", "datapath.generator.duration", "not a duration")]
    [InlineData("datapath.pmds = -1", "datapath.pmds", "outside")]
    [InlineData("datapath.max-recirculation-depth = 0", "datapath.max-recirculation-depth", "outside")]
    [InlineData("datapath.conntrack-direct-routes = maybe", "datapath.conntrack-direct-routes", "not on or off")]
    [InlineData("datapath.pmd-dedicated-threads = maybe", "datapath.pmd-dedicated-threads", "not on or off")]
    [InlineData("datapath.port-window = 0", "datapath.port-window", "outside")]
    [InlineData("datapath.recirc-bypass = shortcut", "datapath.recirc-bypass", "not one of off, megaflow, per-connection, emc-only, on")]
    [InlineData("datapath.recirc-bypass-max-flows = 0", "datapath.recirc-bypass-max-flows", "outside")]
    [InlineData("datapath.packet-pool-size = 8", "datapath.packet-pool-size", "outside")]
    [InlineData("datapath.conntrack-answer-timeout = never", "datapath.conntrack-answer-timeout", "not a duration")]
    [InlineData("datapath.flow-expiry-interval = 0s", "datapath.flow-expiry-interval", "outside")]
    [InlineData("datapath.gather-timeout = 2h", "datapath.gather-timeout", "outside")]
    [InlineData("datapath.pmd-dedicated-threads = on\ndatapath.pmd-cpu-mask = 0xg", "datapath.pmd-cpu-mask", "not a hexadecimal CPU mask")]
    [InlineData("datapath.pmd-dedicated-threads = on\ndatapath.pmd-cpu-mask = 0x", "datapath.pmd-cpu-mask", "not a hexadecimal CPU mask")]
    [InlineData("datapath.pmd-dedicated-threads = on\ndatapath.pmd-cpu-mask = 0x00", "datapath.pmd-cpu-mask", "names no CPU")]
    [InlineData("datapath.pmd-dedicated-threads = off\ndatapath.pmd-cpu-mask = 1", "datapath.pmd-cpu-mask", "needs datapath.pmd-dedicated-threads = on")]
    [InlineData("datapath.pmd-dedicated-threads = on\ndatapath.pmds = 2\ndatapath.pmd-cpu-mask = 0x1", "datapath.pmd-cpu-mask", "names 1 CPU (0) for 2 PMDs")]
    // Akka reads a list or an object as a null string: a switch crashed on it, a number or a word said ''.
    [InlineData("datapath.metrics.enabled = [on]", "datapath.metrics.enabled", "must be a single value, not a list")]
    [InlineData("datapath.metrics.enabled {}", "datapath.metrics.enabled", "must be a single value, not an object")]
    [InlineData("datapath.pmds = [1, 2]", "datapath.pmds", "must be a single value, not a list")]
    [InlineData("datapath.ports = null", "datapath.ports", "has no value (null)")]
    [InlineData("akka.actor.provider = cluster\nakka.cluster.seed-nodes = [[1]]", "akka.cluster.seed-nodes", "must be a list of strings")]
    [InlineData("akka.cluster.seed-nodes = \"akka.tcp://datapath@127.0.0.1:4053\"", "akka.cluster.seed-nodes", "must be a list of strings")]
    public void A_bad_value_is_reported_with_its_file_and_key(string line, string key, string problem)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal(key, error.Key);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cpu_mask_longer_than_1024_cpus_is_refused_and_echoed_back_cut_short()
    {
        string path = Write("datapath.pmd-dedicated-threads = on\ndatapath.pmd-cpu-mask = 0x" + new string('f', 257) + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal("datapath.pmd-cpu-mask", error.Key);
        Assert.Contains("CPUs 0 to 1023", error.Message, StringComparison.Ordinal);
        Assert.Contains(new string('f', 38) + "...", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('f', 60), error.Message, StringComparison.Ordinal);
    }

    [PinningFact]
    public void A_cpu_mask_names_its_cpus_in_order_and_without_a_pmd_count_makes_a_pmd_for_each()
    {
        var allowed = CpuAffinity.OfCurrentThread();
        ulong mask = allowed.Where(c => c < 64).Aggregate(0UL, (m, c) => m | (1UL << c));
        string path = Write($"datapath.pmd-dedicated-threads = on\ndatapath.pmd-cpu-mask = \"0X{mask:x}\"\n");

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path);

        Assert.Equal(allowed.Where(c => c < 64), settings.Pmd.Cpus);
        Assert.Equal(settings.Pmd.Cpus.Count, settings.Pmds);
        Assert.Equal(settings.Pmds, settings.Conntrack.Shards);
    }

    [Theory]
    [InlineData("0x10006", 4, "names 3 CPUs (1-2,16) for 4 PMDs")]
    [InlineData("10006", 4, "names 3 CPUs (1-2,16) for 4 PMDs")]
    [InlineData("0X0f", 5, "names 4 CPUs (0-3) for 5 PMDs")]
    [InlineData("8000000000000000000000001", 3, "names 2 CPUs (0,99) for 3 PMDs")]
    public void A_cpu_mask_reads_as_Open_vSwitch_reads_pmd_cpu_mask_bit_i_for_cpu_i(string mask, int pmds, string problem)
    {
        // Too few CPUs for the PMDs is said before any CPU is checked against this machine's, with the CPUs as read.
        string path = Write($"datapath.pmd-dedicated-threads = on\ndatapath.pmds = {pmds}\ndatapath.pmd-cpu-mask = \"{mask}\"\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [PinningFact]
    public void A_cpu_the_process_may_not_run_on_is_refused_naming_the_ones_it_may()
    {
        var allowed = CpuAffinity.OfCurrentThread();
        int outside = Enumerable.Range(0, CpuAffinity.MaxCpus).First(c => !allowed.Contains(c));
        string oneCpu = "0x" + (1 << (outside % 4)).ToString(CultureInfo.InvariantCulture) + new string('0', outside / 4);
        string path = Write($"datapath.pmd-dedicated-threads = on\ndatapath.pmds = 1\ndatapath.pmd-cpu-mask = \"{oneCpu}\"\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Contains($"CPU {outside} is not one this process may run on ({NumberRanges.Format(allowed)})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_shard_count_conntrack_has_a_shard_per_pmd()
    {
        string path = Write("datapath.pmds = 3\n");
        string explicitPath = Write("datapath.pmds = 3\ndatapath.conntrack.shards = 8\n");

        Assert.Equal(3, DatapathSettings.From(DatapathConfig.LoadFile(path), path).Conntrack.Shards);
        Assert.Equal(8, DatapathSettings.From(DatapathConfig.LoadFile(explicitPath), explicitPath).Conntrack.Shards);
    }

    [Theory]
    [InlineData("off", BypassMode.Off)]
    [InlineData("on", BypassMode.Megaflow)]
    [InlineData("megaflow", BypassMode.Megaflow)]
    [InlineData("per-connection", BypassMode.PerConnection)]
    [InlineData("emc-only", BypassMode.EmcOnly)]
    public void The_recirculation_bypass_is_one_mode_word(string word, BypassMode mode)
    {
        string path = Write($"datapath.recirc-bypass = {word}\n");

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path);

        Assert.Equal(mode, settings.Pmd.Core.Bypass);
    }

    [Fact]
    public void The_embedded_default_bypass_is_megaflow()
    {
        var settings = DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName);

        Assert.Equal(BypassMode.Megaflow, settings.Pmd.Core.Bypass);
        Assert.Equal(1 << 21, settings.Pmd.Core.MaxBypassFlows);
    }

    [Fact]
    public void A_missing_file_is_reported_by_name()
    {
        string path = Path.Combine(_dir, "absent.conf");

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_is_reported_as_one()
    {
        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(_dir));

        Assert.Equal($"{_dir}: is a directory, not a configuration file", error.Message);
    }

    [Fact]
    public void A_file_larger_than_a_configuration_is_refused_not_read_to_the_end()
    {
        // /dev/zero never ends: it used to be read until memory ran out.
        string path = OperatingSystem.IsLinux() ? "/dev/zero" : Write(new string('#', DatapathConfig.MaxFileBytes + 1));

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Equal($"{path}: is larger than 1024 KiB: not a configuration file", error.Message);
    }

    [Theory]
    [InlineData("datapath { emc-entires = 4096 }", "datapath.emc-entires", "unknown key")]
    [InlineData("datapath.generator.conections = 5", "datapath.generator.conections", "unknown key")]
    [InlineData("emc-entries = 4096", "emc-entries", "unknown key")]
    [InlineData("datapath emc-entries 4096", "datapath emc-entries 4096", "unknown key")]
    [InlineData("datapath { emc-entries = \n}", "datapath.emc-entries", "has no value")]
    [InlineData("datapath.recirc-bypass-megaflows = on", "datapath.recirc-bypass-megaflows", "unknown key")]
    [InlineData("datapath.recirc-bypass-emc-only = on", "datapath.recirc-bypass-emc-only", "unknown key")]
    public void A_broken_or_misspelt_line_is_an_error_not_ignored(string text, string key, string problem)
    {
        string path = Write(text);

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.StartsWith(path + ": " + key + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    // Akka's parser overflows the stack (killing the process) on deep nesting and substitution
    // cycles, loops forever on an unclosed '[', and stops at a stray '}' without a word.
    [Theory]
    [InlineData("datapath.pmds = ${datapath.pmds}\n", "a substitution refers back")]
    [InlineData("akka.a = ${akka.b}\nakka.b = ${akka.a}\n", "a substitution refers back")]
    [InlineData("datapath.pmds = ${?nowhere}\n", "a substitution refers back")]
    [InlineData("datapath.pmds = [1, 2\n# the rest\n", "line 1: this '[' is never closed")]
    [InlineData("datapath { pmds = 1\n", "line 1: this '{' is never closed")]
    [InlineData("datapath.pmds = 1 }\ndatapath.emc-entries = 1000\n", "line 1: '}' closes nothing")]
    [InlineData("datapath { pmds = [1 }\n", "line 1: '}' closes the '[' of line 1")]
    [InlineData("datapath.flows = \"open\n", "line 1: a quoted string is not closed")]
    [InlineData("akka.x = [a = 1]\n", "line 1: '=' cannot stand unquoted in a list")]
    [InlineData("akka.cluster.seed-nodes = [akka.tcp://datapath@127.0.0.1:4053]\n", "line 1: ':' cannot stand unquoted in a list")]
    [InlineData("akka.x = [a@b]\n", "line 1: '@' cannot stand unquoted in a list")]
    [InlineData("akka.x = [${?akka.loglevel}]\n", "line 1: '$' cannot stand unquoted in a list")]
    public void Text_the_HOCON_parser_would_crash_on_hang_on_or_cut_short_is_refused(string text, string problem)
    {
        string path = Write(text);

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100_000, "{", "}")]
    [InlineData(100_000, "[", "]")]
    [InlineData(100_000, ".", "")]
    public void Nesting_deeper_than_the_limit_is_refused_not_a_stack_overflow(int levels, string open, string close)
    {
        string text = open == "."
            ? "akka" + string.Concat(Enumerable.Repeat(".a", levels)) + " = 1\n"
            : "akka.a = " + string.Concat(Enumerable.Repeat(open == "{" ? "{ a = " : "[", levels)) + "1" + string.Concat(Enumerable.Repeat(close, levels)) + "\n";
        string path = Write(text);

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Contains("nested deeper than 64 levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_chain_of_substitutions_or_one_that_multiplies_is_refused()
    {
        string chain = Write(string.Concat(Enumerable.Range(1, 10_000).Select(i => $"akka.k{i} = ${{akka.k{i - 1}}}\n")).Replace("${akka.k0}", "generator", StringComparison.Ordinal) + "datapath.ports = ${akka.k10000}\n");
        string laughs = Write("akka.a0 = xxxxxxxxxx\n" + string.Concat(Enumerable.Range(1, 12).Select(i => $"akka.a{i} = " + string.Concat(Enumerable.Repeat($"${{akka.a{i - 1}}}", 10)) + "\n")) + "datapath.ports = ${akka.a12}\n");

        Assert.Contains("nested deeper than 64 levels (counting the substitutions followed)", Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(chain)).Message, StringComparison.Ordinal);
        Assert.Contains("characters through its substitutions", Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(laughs)).Message, StringComparison.Ordinal);
    }

    // A quoted "\n" broke the message in two, and a long value was echoed whole.
    [Theory]
    [InlineData("datapath.ports = \"gen\\nerator\"", "datapath.ports: 'gen\\nerator' is not a port type")]
    [InlineData("datapath.generator.duration = \"1\\u0007s\"", "datapath.generator.duration: '1\\u0007s' is not a duration")]
    [InlineData("datapath.conntrack.zone-limits { \"5\\n6\" = 1 }", "datapath.conntrack.zone-limits.5\\n6: '5\\n6' is not a zone")]
    public void A_bad_value_is_shown_on_one_line(string line, string expected)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_long_bad_value_or_key_is_shown_cut_short()
    {
        string value = Write($"datapath.ports = \"{new string('x', 100_000)}\"\n");
        string key = Write($"datapath.{new string('k', 100_000)} = 1\n");

        var valueError = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(value), value));
        var keyError = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(key));

        Assert.Equal($"{value}: datapath.ports: '{new string('x', 40)}...' is not a port type (generator, pcap or system)", valueError.Message);
        Assert.Equal($"{key}: datapath.{new string('k', 91)}...: unknown key (see hocon/datapath.conf for the keys there are)", keyError.Message);
    }

    // Without an include callback Akka failed with "Object reference not set to an instance of an object".
    [Theory]
    [InlineData("include \"other.conf\"\n")]
    [InlineData("datapath {\n  include \"other.conf\"\n}\n")]
    public void An_include_is_refused_by_name(string text)
    {
        string path = Write(text);

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Equal($"{path}: include \"other.conf\": includes are not read (write the settings in this file)", error.Message);
    }

    [Fact]
    public void Akka_settings_pass_through_untouched()
    {
        string path = Write("akka.loglevel = DEBUG\n");

        var config = DatapathConfig.LoadFile(path);

        Assert.Equal("DEBUG", config.GetString("akka.loglevel"));
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
