using System.CommandLine;
using System.Text.RegularExpressions;

namespace Host.Commands;

/// <summary>
/// The command-line parser's errors in our words: System.CommandLine names the .NET type it could
/// not convert to ("as expected type 'System.Nullable`1[System.Double]'"); a user needs to know
/// what to write instead.
/// </summary>
internal static partial class ParseErrors
{
    /// <summary>
    /// When <paramref name="parsed"/> has errors (and help was not asked for), writes the first as one line
    /// naming the option, in our words (no .NET type names, no whole help page), and says so.
    /// </summary>
    /// <param name="program">The executable's name (ovs-actors, ovs-actors-bench).</param>
    public static bool Report(ParseResult parsed, IReadOnlyList<string> args, string program, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        if (parsed.Errors.Count == 0 || args.Any(a => a is "-h" or "-?" or "--help"))
        {
            return false;
        }

        string command = parsed.CommandResult.Command is RootCommand ? program : parsed.CommandResult.Command.Name;
        CommandError.Write(error, command, Describe(parsed.Errors[0].Message) + $" ({program} {(command == program ? string.Empty : command + " ")}--help lists the options)", WantsJson(args));
        return true;
    }

    public static string Describe(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string described = ExpectedType().Replace(message, m => "as " + Expected(m.Groups["type"].Value));
        return Whitespace().Replace(described, " ").Trim();
    }

    /// <summary>Whether the command line asks for JSON (--format json): its errors are JSON then too.</summary>
    public static bool WantsJson(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--format=json" || (args[i] == "--format" && i + 1 < args.Count && args[i + 1] == "json"))
            {
                return true;
            }
        }

        return false;
    }

    private static string Expected(string type) => type switch
    {
        _ when type.Contains("Double", StringComparison.Ordinal) => "a number (such as 10 or 0.5)",
        _ when type.Contains("Int", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ when type.Contains("FileInfo", StringComparison.Ordinal) => "a file path",
        _ when type.Contains("DirectoryInfo", StringComparison.Ordinal) => "a directory path",
        _ => "a value of that option",
    };

    [GeneratedRegex(@"\s*\n\s*")]
    private static partial Regex Whitespace();

    [GeneratedRegex("as expected type '(?<type>[^']*)'")]
    private static partial Regex ExpectedType();
}
