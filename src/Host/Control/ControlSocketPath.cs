using System.Text;

namespace Host.Control;

/// <summary>
/// What a Unix domain socket's path may be: sockaddr_un holds at most 107 bytes and a NUL on Linux,
/// and .NET throws past that (an ArgumentOutOfRangeException, not an error in our words).
/// </summary>
internal static class ControlSocketPath
{
    public const int MaxBytes = 107;

    /// <summary>Why <paramref name="path"/> cannot name a socket, or null.</summary>
    public static string? Problem(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return "no socket path given (an empty path)";
        }

        int bytes = Encoding.UTF8.GetByteCount(path);
        return bytes > MaxBytes ? $"{Shown(path)}: a unix socket path is at most {MaxBytes} bytes, this one is {bytes}" : null;
    }

    /// <summary>A long path cut for a message (the problem is its length, the end says which one).</summary>
    private static string Shown(string path) => path.Length <= 120 ? path : string.Concat(path.AsSpan(0, 60), "...", path.AsSpan(path.Length - 40));
}
