using Mono.Unix.Native;

namespace Host.Commands;

/// <summary>How an output the user named is written.</summary>
internal static class OutputPath
{
    /// <summary>
    /// Whether <paramref name="path"/> may be written beside and then moved into place (missing, or a
    /// regular file). A device or a FIFO (/dev/null, /dev/stdout, a named pipe) is written as it is:
    /// moving a file over it would replace the node itself, and as root even /dev/null.
    /// </summary>
    public static bool IsReplaceable(string path) =>
        Syscall.stat(path, out var stat) != 0 || (stat.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFREG;
}
