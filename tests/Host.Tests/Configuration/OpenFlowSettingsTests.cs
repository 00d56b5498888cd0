using Host.Configuration;

namespace Actors.Tests.Configuration;

public sealed class OpenFlowSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-openflow-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void By_default_br0_mgmt_sits_beside_the_control_socket_and_nothing_else_listens_or_connects()
    {
        var settings = DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName);

        Assert.Equal(0, settings.OpenFlow.ListenPort);
        Assert.Empty(settings.OpenFlow.Controllers);
        var control = settings.Control with { SocketPath = "/run/dp/ovs-actors.ctl" };
        Assert.Equal("/run/dp/br0.mgmt", settings.OpenFlow.ManagementPath(control));
        Assert.Null(settings.OpenFlow.ManagementPath(control with { SocketPath = ControlSettings.Off }));
    }

    [Fact]
    public void A_user_file_sets_the_listener_the_controllers_and_the_timings()
    {
        string path = Write("""
            datapath.openflow {
              mgmt = "/tmp/x/switch.mgmt"
              listen-port = 6653
              controllers = ["tcp:127.0.0.1:6654", "tcp:127.0.0.1:6655"]
              probe-interval = 2s
              max-backoff = 4s
              max-connections = 3
            }
            """);

        var openFlow = DatapathSettings.From(DatapathConfig.LoadFile(path), path).OpenFlow;

        Assert.Equal("/tmp/x/switch.mgmt", openFlow.ManagementPath(new ControlSettings(null, 1, 1024, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))));
        Assert.Equal(6653, openFlow.ListenPort);
        Assert.Equal(["tcp:127.0.0.1:6654", "tcp:127.0.0.1:6655"], openFlow.Controllers);
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), 3), (openFlow.ProbeInterval, openFlow.MaxBackoff, openFlow.MaxConnections));
    }

    [Theory]
    [InlineData("datapath.openflow.listen-port = 70000", "datapath.openflow.listen-port", "outside 0..65535")]
    [InlineData("datapath.openflow.controllers = [\"ssl:1.2.3.4:6653\"]", "datapath.openflow.controllers", "tcp:HOST:PORT")]
    [InlineData("datapath.openflow.controllers = [\"tcp:127.0.0.1:0\"]", "datapath.openflow.controllers", "tcp:HOST:PORT")]
    [InlineData("datapath.openflow.probe-interval = often", "datapath.openflow.probe-interval", "not a duration")]
    // A single string was read as an empty list (the controller dropped without a word); a nested list crashed.
    [InlineData("datapath.openflow.controllers = \"tcp:127.0.0.1:6653\"", "datapath.openflow.controllers", "must be a list of strings, such as")]
    [InlineData("datapath.openflow.controllers = [[\"tcp:127.0.0.1:6653\"]]", "datapath.openflow.controllers", "not of lists, objects or nulls")]
    [InlineData("datapath.openflow.controllers = [null]", "datapath.openflow.controllers", "not of lists, objects or nulls")]
    public void A_bad_openflow_value_is_reported_with_its_key(string line, string key, string problem)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "openflow.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
