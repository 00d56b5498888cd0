using System.Net.Sockets;
using Mono.Unix;
using Mono.Unix.Native;

namespace Host.Control;

/// <summary>The control socket could not be created; the message says why and names the path.</summary>
internal sealed class ControlSocketException(string message) : Exception(message);

/// <summary>
/// Creates the listening Unix domain socket of `run` with owner-only permissions (0600), as
/// Open vSwitch's unixctl server does for its .ctl files, in a directory that only this user can
/// change (<see cref="PrivateDirectory"/>). The socket is bound inside a fresh 0700 directory beside
/// the target, made 0600 there and only then moved into place, so no other user can connect in
/// between. A socket file that nobody answers on (left by a run that crashed) is replaced; one that
/// answers belongs to a live datapath and is an error; anything else at the path is refused.
/// </summary>
internal static class ControlSocket
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlySocket = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <exception cref="ControlSocketException">The path is taken by a live datapath or by something that is not a socket, or its directory is unsafe.</exception>
    public static Socket Listen(string path, int backlog)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new ControlSocketException("the control socket needs a Unix system (file modes)");
        }

        path = Path.GetFullPath(path);
        if (ControlSocketPath.Problem(path) is { } problem)
        {
            throw new ControlSocketException(problem);
        }

        string directory = Path.GetDirectoryName(path) ?? throw new ControlSocketException($"{path}: not a file path");

        // The socket is bound in the staging directory first, so its path is limited too: a short
        // name (the process and 8 random hex digits) leaves the target's directory the most room.
        string staging = Path.Combine(directory, $".{Environment.ProcessId}.{Random.Shared.Next():x8}");
        if (ControlSocketPath.Problem(Path.Combine(staging, "s")) is not null)
        {
            throw new ControlSocketException($"{path}: its directory is too long for a unix socket (the socket is first bound in {staging}/s, at most {ControlSocketPath.MaxBytes} bytes)");
        }

        PrivateDirectory.Prepare(directory);
        RemoveStale(path);
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

    /// <summary>
    /// Clears the way for the socket: nothing there is fine; a socket nobody answers on (a run that
    /// crashed) is removed; anything else is refused without being opened (opening a FIFO would
    /// block until a writer came) or removed.
    /// </summary>
    private static void RemoveStale(string path)
    {
        if (Syscall.lstat(path, out var stat) != 0)
        {
            return;
        }

        var type = stat.st_mode & FilePermissions.S_IFMT;
        if (type != FilePermissions.S_IFSOCK)
        {
            throw new ControlSocketException($"{path} exists and is not a socket (it is {Describe(type)}): remove it or choose another path");
        }

        if (IsLive(path))
        {
            throw new ControlSocketException($"another datapath is listening on {path}");
        }

        if (Syscall.unlink(path) != 0)
        {
            throw new ControlSocketException($"cannot remove the stale socket {path}: {UnixMarshal.GetErrorDescription(Stdlib.GetLastError())}");
        }
    }

    private static string Describe(FilePermissions type) => type switch
    {
        FilePermissions.S_IFIFO => "a FIFO",
        FilePermissions.S_IFREG => "a regular file",
        FilePermissions.S_IFDIR => "a directory",
        FilePermissions.S_IFLNK => "a symbolic link",
        FilePermissions.S_IFCHR => "a character device",
        FilePermissions.S_IFBLK => "a block device",
        _ => "not a socket",
    };
}
