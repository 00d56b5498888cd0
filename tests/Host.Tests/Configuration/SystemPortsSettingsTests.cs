using Host.Configuration;

namespace Host.Tests.Configuration;

/// <summary>`datapath.ports = system` and its `datapath.system` section, as the main job reads them.</summary>
public sealed class SystemPortsSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_example_file_runs_the_main_job_on_two_interfaces()
    {
        string path = Path.Combine(RepositoryRoot(), "hocon", "system-ports.conf");

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path);

        Assert.Equal(new SystemPortsSettings("veth-a", "veth-b"), settings.SystemPorts);
        Assert.Equal([(1u, "veth-a"), (2u, "veth-b")], settings.SystemPorts!.Ports);
        Assert.Null(settings.Pcap);
    }

    [Fact]
    public void The_embedded_default_has_no_system_ports()
    {
        Assert.Null(DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName).SystemPorts);
    }

    [Theory]
    [InlineData("datapath { ports = system, system.port2 = eth1 }", "datapath.system.port1", "needs the interface's name")]
    [InlineData("datapath { ports = system, system { port1 = eth1, port2 = eth1 } }", "datapath.system.port2", "'eth1' is already port1")]
    [InlineData("datapath { ports = system, system { port1 = \"a-very-long-interface\", port2 = eth1 } }", "datapath.system.port1", "not a Linux interface name")]
    [InlineData("datapath { ports = system, system { port1 = \"a/b\", port2 = eth1 } }", "datapath.system.port1", "not a Linux interface name")]
    [InlineData("datapath { ports = tap }", "datapath.ports", "'tap' is not a port type (generator, pcap or system)")]
    public void A_bad_system_section_is_an_error_naming_the_key(string text, string key, string problem)
    {
        string path = Path.Combine(_dir, "bad.conf");
        File.WriteAllText(path, text);

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal(key, error.Key);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_in_the_system_section_is_rejected()
    {
        string path = Path.Combine(_dir, "typo.conf");
        File.WriteAllText(path, "datapath.system.port3 = eth3\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Equal("datapath.system.port3", error.Key);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Actors.sln not found above " + AppContext.BaseDirectory);
    }
}
