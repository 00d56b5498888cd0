namespace Host.Commands;

/// <summary>An output the user named could not be created; the message names the option and the path.</summary>
internal sealed class OutputFileException(string message, Exception inner) : IOException(message, inner);

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
            _ when path.Length == 0 => "no file named (an empty path)",
            _ when Directory.Exists(path) => $"{path} is a directory, not a file",
            FileNotFoundException => $"{path}: no such file",
            DirectoryNotFoundException => $"{path}: no such file (a directory on the way is missing)",
            UnauthorizedAccessException => $"{path}: permission denied",
            PathTooLongException => $"{path}: the path is too long",
            _ => $"{path}: cannot be read ({error.Message})",
        };
    }

    /// <summary>
    /// Runs <paramref name="create"/>, which creates <paramref name="path"/> (a file, or a directory
    /// when <paramref name="isDirectory"/>) for <paramref name="option"/>;
    /// a failure becomes an <see cref="OutputFileException"/> naming both, so it is never taken for
    /// a failure to read the input.
    /// </summary>
    public static T CreateForOption<T>(string option, string path, Func<T> create, bool isDirectory = false)
    {
        ArgumentNullException.ThrowIfNull(create);
        try
        {
            return create();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputFileException($"{option}: {DescribeWrite(path, e, isDirectory)}", e);
        }
    }

    /// <summary>Why creating or writing <paramref name="path"/> (a directory when <paramref name="directory"/>) failed with <paramref name="error"/>, naming the path.</summary>
    public static string DescribeWrite(string path, Exception error, bool directory = false)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error switch
        {
            _ when directory && File.Exists(path) => $"{path} is a file, not a directory",
            _ when !directory && Directory.Exists(path) => $"{path} is a directory, not a file",
            UnauthorizedAccessException => $"{path}: permission denied",
            DirectoryNotFoundException => $"{path}: a directory on the way is missing",
            FileNotFoundException => $"{path}: this file system does not let it be created",
            _ => $"{path}: cannot be written ({error.Message})",
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
