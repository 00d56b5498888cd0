using System.Net.Sockets;
using Host.Configuration;

namespace Host.Control;

/// <summary>
/// The control channel of a running datapath from the main job's side: bound before anything
/// starts (so that a second datapath on the same socket fails first), served once the actors are
/// up, stopped before they stop. Logs of the channel (vlog module "control") go to
/// <c>log</c>, the run's stderr.
/// </summary>
internal sealed class ControlChannel : IAsyncDisposable
{
    private readonly ControlSettings _settings;
    private Socket? _listener;
    private ControlServer? _server;
    private DatapathControl? _commands;
    private bool _disposed;

    private ControlChannel(ControlSettings settings, Socket listener, TextWriter log)
    {
        _settings = settings;
        _listener = listener;
        Log = new VlogModules(log);
    }

    /// <summary>The log modules of this run (vlog/list, vlog/set).</summary>
    public VlogModules Log { get; }

    /// <summary>Binds the socket of <paramref name="settings"/>; null when the channel is off.</summary>
    /// <exception cref="ControlSocketException">The socket's place is unsafe, taken, or cannot be made.</exception>
    public static ControlChannel? Bind(ControlSettings settings, TextWriter log) =>
        settings.Enabled ? new ControlChannel(settings, ControlSocket.Listen(settings.EffectiveSocketPath, backlog: 128), log) : null;

    /// <summary>Starts answering commands against <paramref name="targets"/>.</summary>
    public void Serve(ControlTargets targets)
    {
        var listener = _listener ?? throw new InvalidOperationException("the control channel serves once");
        _listener = null;
        var options = new ControlServerOptions(_settings.MaxConnections, _settings.MaxRequestBytes, _settings.IdleTimeout);
        _commands = new DatapathControl(targets, Log);
        _commands.Start();
        _server = ControlServer.Start(listener, _settings.EffectiveSocketPath, _commands, options, Log);
    }

    /// <summary>Stops the channel; the main job stops it before the actors, and again (a no-op) on its way out.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _listener?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        if (_commands is not null)
        {
            await _commands.DisposeAsync().ConfigureAwait(false);
        }
    }
}
