using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Host.Control;

/// <summary>The control socket could not be created; the message says why and names the path.</summary>
internal sealed class ControlSocketException(string message) : Exception(message);

/// <summary>
/// Creates the listening Unix domain socket of `run` with owner-only permissions (0600), as
/// Open vSwitch's unixctl server does for its .ctl files. The socket is bound inside a fresh
/// 0700 directory beside the target, made 0600 there and only then moved into place, so no other
/// user can connect in between. A socket file that nobody answers on (left by a run that
/// crashed) is replaced; one that answers belongs to a live datapath and is an error.
/// </summary>
internal static class ControlSocket
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlySocket = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <exception cref="ControlSocketException">The path is taken by a live datapath or by something that is not a socket, or its directory is unsafe.</exception>
    public static Socket Listen(string path, int backlog)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new ControlSocketException("the control socket needs a Unix system (file modes)");
        }

        path = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(path) ?? throw new ControlSocketException($"{path}: not a file path");
        PrepareDirectory(directory);
        RemoveStale(path);

        string staging = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging, OwnerOnlyDirectory);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            string staged = Path.Combine(staging, "s");
            listener.Bind(new UnixDomainSocketEndPoint(staged));
            File.SetUnixFileMode(staged, OwnerOnlySocket);
            listener.Listen(backlog);
            File.Move(staged, path, overwrite: false);
            return listener;
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new ControlSocketException($"cannot listen on {path}: {e.Message}");
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>True when something accepts connections on <paramref name="path"/>.</summary>
    public static bool IsLive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Creates a missing directory with mode 0700; refuses one that other users may write into (they could swap the socket).</summary>
    [UnsupportedOSPlatform("windows")]
    private static void PrepareDirectory(string directory)
    {
        try
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, OwnerOnlyDirectory);
                return;
            }

            var mode = File.GetUnixFileMode(directory);
            if ((mode & WritableByOthers) != 0 && (mode & UnixFileMode.StickyBit) == 0)
            {
                throw new ControlSocketException($"{directory} is writable by other users: choose a private directory for the control socket");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ControlSocketException($"cannot prepare {directory}: {e.Message}");
        }
    }

    private static void RemoveStale(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        if (IsLive(path))
        {
            throw new ControlSocketException($"another datapath is listening on {path}");
        }

        // Linux refuses a connect to a regular file just as to a dead socket; only a socket
        // cannot be opened as a file (ENXIO), so a user's file is never removed.
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (IOException)
        {
            File.Delete(path);
            return;
        }

        throw new ControlSocketException($"{path} exists and is not a socket");
    }
}
