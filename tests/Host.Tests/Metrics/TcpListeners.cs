using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Host.Tests.Metrics;

/// <summary>The machine's listening TCP sockets as the kernel lists them (/proc/net/tcp and tcp6), and free ports.</summary>
public static class TcpListeners
{
    private const string Listen = "0A";

    /// <summary>The local addresses listening on <paramref name="port"/>, IPv4 and IPv6.</summary>
    public static List<IPAddress> On(int port) =>
        [.. Read("/proc/net/tcp", port), .. Read("/proc/net/tcp6", port)];

    /// <summary>A port nothing listens on now (the kernel's pick for a socket bound to port 0).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>A loopback socket bound to a port the kernel picks and not listening: the port is taken (no one else can bind it) but refuses connections.</summary>
    public static Socket Reserve()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static IEnumerable<IPAddress> Read(string table, int port)
    {
        if (!File.Exists(table))
        {
            yield break;
        }

        foreach (string line in File.ReadLines(table).Skip(1))
        {
            // "  0: 0100007F:4C08 00000000:0000 0A ...": local address:port, remote, state.
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] local = fields[1].Split(':');
            if (fields[3] == Listen && int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
            {
                yield return Address(local[0]);
            }
        }
    }

    /// <summary>The kernel prints each 32-bit word of the address in host (little-endian) order.</summary>
    private static IPAddress Address(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        for (int word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }

        return new IPAddress(bytes);
    }
}
