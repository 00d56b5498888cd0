using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Host.Configuration;
using Actors.OpenFlow;
using Akka.Actor;
using Host.Control;

namespace Host.OpenFlow;

/// <summary>
/// The bridge's OpenFlow endpoints (Open vSwitch's connmgr): the br0.mgmt Unix socket (owner-only,
/// as the control socket), an optional ptcp:PORT:127.0.0.1 listener, and connections out to
/// controllers (tcp:HOST:PORT) re-established with a growing backoff (1 s doubling up to
/// max-backoff) after each loss. Each connection is an <see cref="OpenFlowConnectionActor"/> over a
/// <see cref="SocketTransport"/>; at most max-connections clients are served on the listeners.
/// </summary>
internal sealed class OpenFlowServer : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _bridge;
    private readonly OpenFlowSettings _settings;
    private readonly List<(Socket Socket, string Name)> _listeners = [];
    private readonly List<Task> _loops = [];
    private readonly ConcurrentDictionary<long, SocketTransport> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly string? _managementPath;
    private long _next;

    private OpenFlowServer(ActorSystem system, IActorRef bridge, OpenFlowSettings settings, string? managementPath)
    {
        _system = system;
        _bridge = bridge;
        _settings = settings;
        _managementPath = managementPath;
    }

    /// <summary>Where ovs-ofctl reaches the bridge: "unix:PATH", or null when br0.mgmt is off.</summary>
    public string? ManagementTarget => _managementPath is null ? null : "unix:" + _managementPath;

    /// <summary>The TCP port the ptcp listener got (useful with a configured port of 0 in tests), or 0.</summary>
    public int ListenPort { get; private set; }

    /// <summary>Connections open now (clients and controllers).</summary>
    public int Connections => _connections.Count;

    /// <summary>Binds the listeners (failing before anything starts when one is taken) and starts serving and connecting.</summary>
    /// <exception cref="ControlSocketException">br0.mgmt cannot be created (taken by a live switch, unsafe directory...).</exception>
    /// <exception cref="IOException">The TCP port is taken (the message names it and the key that chose it).</exception>
    public static OpenFlowServer Start(ActorSystem system, IActorRef bridge, OpenFlowSettings settings, ControlSettings control, int? listenPort = null)
    {
        string? management = settings.ManagementPath(control);
        var server = new OpenFlowServer(system, bridge, settings, management);
        try
        {
            if (management is not null)
            {
                server._listeners.Add((ControlSocket.Listen(management, backlog: 16), "punix:" + management));
            }

            int port = listenPort ?? settings.ListenPort;
            if (port != 0 || listenPort == 0)
            {
                var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                    tcp.Listen(16);
                }
                catch (SocketException e)
                {
                    tcp.Dispose();
                    throw new IOException($"cannot listen on ptcp:{port}:127.0.0.1 (datapath.openflow.listen-port, --openflow-port): {e.Message}", e);
                }

                server.ListenPort = ((IPEndPoint)tcp.LocalEndPoint!).Port;
                server._listeners.Add((tcp, $"ptcp:{server.ListenPort}:127.0.0.1"));
            }
        }
        catch
        {
            foreach (var (socket, _) in server._listeners)
            {
                socket.Dispose();
            }

            throw;
        }

        foreach (var (socket, name) in server._listeners)
        {
            server._loops.Add(Task.Run(() => server.AcceptLoopAsync(socket, name)));
        }

        foreach (string target in settings.Controllers)
        {
            var (host, targetPort) = OpenFlowSettings.ParseTarget(target);
            server._loops.Add(Task.Run(() => server.ConnectLoopAsync(host, targetPort, target)));
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var (socket, _) in _listeners)
        {
            socket.Dispose();
        }

        foreach (var connection in _connections.Values)
        {
            connection.Close();
        }

        await Task.WhenAll(_loops).ConfigureAwait(false);
        await Task.WhenAll(_connections.Values.Select(c => c.Completion)).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (_managementPath is not null)
        {
            try
            {
                File.Delete(_managementPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next run to replace.
            }
        }
    }

    private async Task AcceptLoopAsync(Socket listener, string name)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (_connections.Count >= _settings.MaxConnections)
            {
                client.Dispose();
                continue;
            }

            Serve(client, name, OpenFlowConnectionKind.Service);
        }
    }

    /// <summary>Keeps one connection to a controller: connect, serve until it ends, wait (1 s doubling up to max-backoff), again.</summary>
    private async Task ConnectLoopAsync(string host, int port, string name)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stop.IsCancellationRequested)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(host, port, _stop.Token).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
                var transport = Serve(socket, name, OpenFlowConnectionKind.Primary);
                await transport.Completion.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                socket.Dispose();
            }

            if (_stop.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _settings.MaxBackoff.Ticks));
        }
    }

    private SocketTransport Serve(Socket socket, string name, OpenFlowConnectionKind kind)
    {
        long id = Interlocked.Increment(ref _next);
        var transport = new SocketTransport(socket);
        var settings = new OpenFlowConnectionSettings($"{name}#{id}", kind, _settings.ProbeInterval);
        var actor = _system.ActorOf(OpenFlowConnectionActor.Props(_bridge, transport, settings), $"openflow-{id}");
        _connections[id] = transport;
        transport.Start(actor);
        _ = transport.Completion.ContinueWith(_ => _connections.TryRemove(id, out SocketTransport? _), TaskScheduler.Default);
        return transport;
    }
}
