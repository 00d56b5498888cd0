namespace Host.Control;

/// <summary>
/// A command's arguments as the client sent them (ovs-appctl style argv): positionals in order,
/// and the options a command allows ("--strict", "--ct-next FLAGS" or "--ct-next=FLAGS",
/// repeatable). Anything else is a bad-params error naming the command.
/// </summary>
internal sealed class CommandArguments
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    private CommandArguments(string method, List<string> positionals)
    {
        Method = method;
        Positionals = positionals;
    }

    public string Method { get; }

    public IReadOnlyList<string> Positionals { get; }

    /// <param name="flags">Options without a value.</param>
    /// <param name="valued">Options with a value.</param>
    /// <exception cref="ControlException">Unknown option, a missing value, or a positional count outside min..max.</exception>
    public static CommandArguments Parse(string method, IReadOnlyList<string> args, int min, int max, string[]? flags = null, string[]? valued = null)
    {
        flags ??= [];
        valued ??= [];
        var positionals = new List<string>();
        var parsed = new CommandArguments(method, positionals);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positionals.Add(arg);
                continue;
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg : arg[..equals];
            if (flags.Contains(name) && equals < 0)
            {
                parsed.Add(name, string.Empty);
            }
            else if (valued.Contains(name))
            {
                string? value = equals >= 0 ? arg[(equals + 1)..] : i + 1 < args.Count ? args[++i] : null;
                parsed.Add(name, value ?? throw Bad(method, $"{name} needs a value"));
            }
            else
            {
                throw Bad(method, $"unknown option {arg}");
            }
        }

        if (positionals.Count < min || positionals.Count > max)
        {
            string wanted = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            throw Bad(method, $"takes {wanted} argument(s), got {positionals.Count}");
        }

        return parsed;
    }

    public bool Has(string option) => _options.ContainsKey(option);

    public IReadOnlyList<string> Values(string option) => _options.TryGetValue(option, out var values) ? values : [];

    /// <summary>The positional at <paramref name="index"/>, or null when absent.</summary>
    public string? At(int index) => index < Positionals.Count ? Positionals[index] : null;

    public static ControlException Bad(string method, string message) => new(JsonRpcCodes.InvalidParams, $"{method}: {message}");

    private void Add(string name, string value)
    {
        if (!_options.TryGetValue(name, out var values))
        {
            _options[name] = values = [];
        }

        values.Add(value);
    }
}
