namespace Host.Commands;

/// <summary>
/// File errors in our words: what is wrong with the path the user gave (missing, a directory, not
/// readable), instead of .NET's messages ("Access to the path ... is denied" for a directory).
/// </summary>
internal static class FileErrors
{
    /// <summary>Why reading <paramref name="path"/> failed with <paramref name="error"/>, naming the path.</summary>
    public static string Describe(string path, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error switch
        {
            _ when Directory.Exists(path) => $"{path} is a directory, not a file",
            FileNotFoundException => $"{path}: no such file",
            DirectoryNotFoundException => $"{path}: no such file (a directory on the way is missing)",
            UnauthorizedAccessException => $"{path}: permission denied",
            PathTooLongException => $"{path}: the path is too long",
            _ => $"{path}: cannot be read ({error.Message})",
        };
    }

    /// <summary>Why <paramref name="path"/> cannot be written to (a directory, a missing directory), or null when it may be.</summary>
    public static string? CheckWritable(string path)
    {
        if (Directory.Exists(path))
        {
            return $"{path} is a directory, not a file";
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        return directory is not null && !Directory.Exists(directory) ? $"{path}: no such directory {directory}" : null;
    }
}
