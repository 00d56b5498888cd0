using Host.Configuration;

namespace Host.Commands;

/// <summary>
/// A flow file's text, read with a bound: a path such as /dev/zero, or a file that is not a flow
/// file, would otherwise be read until memory runs out.
/// </summary>
internal static class FlowFileText
{
    /// <summary>256 MiB: about 1.7 million flows of 150 bytes, more than a bridge's tables are meant to hold.</summary>
    public const int MaxBytes = 256 * 1024 * 1024;

    /// <exception cref="IOException">It cannot be read, or it is larger than <see cref="MaxBytes"/>.</exception>
    public static string Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new FileNotFoundException("an empty path names no file", path);
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return Read(file);
    }

    /// <summary>The text of <paramref name="stream"/> (standard input for "-").</summary>
    /// <exception cref="IOException">It is larger than <see cref="MaxBytes"/>.</exception>
    public static string Read(Stream stream) =>
        BoundedText.TryRead(stream, MaxBytes, out string text)
            ? text
            : throw new IOException($"larger than {MaxBytes / (1024 * 1024)} MiB, too large for a flow file");
}
