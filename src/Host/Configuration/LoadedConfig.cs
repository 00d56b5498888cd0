using System.Text;
using Akka.Configuration;

namespace Host.Configuration;

/// <summary>
/// A configuration ready to be read: the HOCON (the embedded default, a user file over it, command-line
/// values over both) and, for error messages, where each value came from. Command-line values are
/// layered as keys rather than patched into the settings afterwards, so that the one reader
/// validates them and resolves what depends on them (queues-per-port = 0 follows datapath.pmds).
/// </summary>
public sealed class LoadedConfig
{
    private readonly IReadOnlyDictionary<string, string> _origins;

    public LoadedConfig(Config config, string source)
        : this(config, source, new Dictionary<string, string>(StringComparer.Ordinal))
    {
    }

    private LoadedConfig(Config config, string source, IReadOnlyDictionary<string, string> origins)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Source = source;
        _origins = origins;
    }

    /// <summary>The HOCON, also what the actor system is made from (its `akka` section).</summary>
    public Config Config { get; }

    /// <summary>The file the configuration came from, or the embedded default's name.</summary>
    public string Source { get; }

    /// <summary>Who gave <paramref name="key"/> its value: a command-line option, else <see cref="Source"/>.</summary>
    public string SourceOf(string key) => _origins.TryGetValue(key, out string? origin) ? origin : Source;

    /// <summary>The configuration with <paramref name="key"/> set to <paramref name="value"/> by <paramref name="origin"/> (such as `--pmds`), which errors about the key then name.</summary>
    public LoadedConfig With(string key, string value, string origin)
    {
        var layer = ConfigurationFactory.ParseString(key + " = " + Quote(value));
        var origins = new Dictionary<string, string>(_origins, StringComparer.Ordinal) { [key] = origin };
        return new LoadedConfig(layer.WithFallback(Config), Source, origins);
    }

    /// <summary>A HOCON quoted string: any value (a path with spaces, a colon) stays one string.</summary>
    private static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                _ when char.IsControl(c) => text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => text.Append(c),
            };
        }

        return text.Append('"').ToString();
    }
}
