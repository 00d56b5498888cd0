using Datapath.Tests.Support;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Host.Configuration;
using Akka.Actor;
using Host.OpenFlow;
using Host.Tests.Support;

namespace Host.Tests.OpenFlow;

/// <summary>
/// The bridge's connection to a controller (tcp:127.0.0.1:PORT), against a listener the test
/// plays the controller on: hello first, echo requests when idle, a new connection after the
/// controller closes one; and the management socket's permissions.
/// </summary>
public sealed class ControllerConnectionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_bridge_says_hello_probes_an_idle_controller_and_reconnects_after_it_closes()
    {
        using var controller = new TcpListener(IPAddress.Loopback, 0);
        controller.Start();
        int port = ((IPEndPoint)controller.LocalEndpoint).Port;
        using var system = ActorSystem.Create("controller-connection");
        var bridge = system.ActorOf(Props.Empty, "bridge");
        var settings = Defaults.Settings.OpenFlow with
        {
            Management = ControlSettings.Off,
            Controllers = [$"tcp:127.0.0.1:{port}"],
            ProbeInterval = TimeSpan.FromMilliseconds(300),
        };
        await using var server = OpenFlowServer.Start(system, bridge, settings, new ControlSettings(ControlSettings.Off, 1, 1024, Patience, Patience));

        using var cancel = new CancellationTokenSource(Patience);
        using (var first = await controller.AcceptSocketAsync(cancel.Token))
        {
            var hello = await ReadMessageAsync(first, cancel.Token);
            Assert.Equal((0x06, 0), (hello[0], hello[1]));
            Assert.Equal(0x7eu, BinaryPrimitives.ReadUInt32BigEndian(hello.AsSpan(12)));

            // Negotiate OpenFlow 1.3, then say nothing: the switch asks whether we are alive.
            await first.SendAsync(Convert.FromHexString("04000010000000010001000800000010"), cancel.Token);
            var echo = await ReadMessageAsync(first, cancel.Token);
            Assert.Equal((0x04, 2), (echo[0], echo[1]));
        }

        // The controller went away: the bridge connects again (after 1 s of backoff) and says hello again.
        using var second = await controller.AcceptSocketAsync(cancel.Token);
        var again = await ReadMessageAsync(second, cancel.Token);
        Assert.Equal(0, again[1]);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_management_socket_is_owner_only_beside_the_control_socket()
    {
        using var scratch = new ScratchDirectory();
        string control = Path.Combine(scratch.Path, "run", "ovs-actors.ctl");
        using var system = ActorSystem.Create("management-socket");
        var controlSettings = new ControlSettings(control, 1, 1024, Patience, Patience);
        var server = OpenFlowServer.Start(system, system.ActorOf(Props.Empty), Defaults.Settings.OpenFlow, controlSettings);
        try
        {
            string mgmt = Path.Combine(scratch.Path, "run", "br0.mgmt");
            Assert.Equal("unix:" + mgmt, server.ManagementTarget);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(mgmt));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(mgmt)!));
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(File.Exists(Path.Combine(scratch.Path, "run", "br0.mgmt")), "br0.mgmt is removed when the switch stops");
    }

    private static async Task<byte[]> ReadMessageAsync(Socket socket, CancellationToken cancel)
    {
        var header = new byte[8];
        await ReadExactlyAsync(socket, header, cancel);
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2))];
        header.CopyTo(message, 0);
        await ReadExactlyAsync(socket, message.AsMemory(8), cancel);
        return message;
    }

    private static async Task ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancel)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancel);
            Assert.True(n > 0, "the switch closed the connection");
            read += n;
        }
    }
}
