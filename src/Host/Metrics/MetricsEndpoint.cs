using System.Net;
using System.Net.Sockets;
using Prometheus;

namespace Host.Metrics;

/// <summary>The metrics endpoint could not be opened (the port is taken, or not ours to bind).</summary>
internal sealed class MetricsEndpointException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The Prometheus endpoint of `run`: http://127.0.0.1:PORT/metrics, served by prometheus-net's
/// standalone <see cref="MetricServer"/> (HttpListener; no ASP.NET) from a registry of its own, so
/// nothing but the datapath's series (and no static state) is exposed. Listening on the loopback
/// address only: the counters tell a lot about the traffic, and there is no authentication.
/// </summary>
internal sealed class MetricsEndpoint : IAsyncDisposable
{
    public const string Host = "127.0.0.1";

    private readonly MetricServer _server;
    private readonly DatapathMetrics _metrics;
    private bool _disposed;

    private MetricsEndpoint(MetricServer server, DatapathMetrics metrics)
    {
        _server = server;
        _metrics = metrics;
    }

    public int Port { get; private init; }

    /// <summary>Binds the port now, so that a port in use fails the job before it starts anything; the datapath is attached later.</summary>
    /// <exception cref="MetricsEndpointException">The port could not be bound.</exception>
    public static MetricsEndpoint Listen(int port)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new DatapathMetrics(Prometheus.Metrics.WithCustomRegistry(registry));
        registry.AddBeforeCollectCallback(metrics.UpdateAsync);
        var server = new MetricServer(Host, port, "metrics/", registry);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is HttpListenerException or SocketException)
        {
            server.Dispose();
            throw new MetricsEndpointException($"cannot serve metrics on {Host}:{port}: {e.Message}", e);
        }

        return new MetricsEndpoint(server, metrics) { Port = port };
    }

    /// <summary>Scrapes from now on ask these actors.</summary>
    public void Serve(MetricsGatherer gatherer) => _metrics.Attach(gatherer);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
