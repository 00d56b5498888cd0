using System.Globalization;
using System.Text;
using Akka.Configuration;

namespace Host.Configuration;

/// <summary>Reads typed values with range checks; every failure names the file (or the command-line option) and the key.</summary>
internal sealed class SettingReader(LoadedConfig loaded)
{
    private readonly Config _config = loaded.Config;

    /// <summary>
    /// A value from outside as an error message shows it: on one line (control characters escaped,
    /// a quoted "a\nb" would break the message in two) and at most <paramref name="max"/> characters.
    /// </summary>
    public static string Shown(string text, int max = 40)
    {
        ArgumentNullException.ThrowIfNull(text);
        var shown = new StringBuilder();
        foreach (char c in text.Length <= max ? text : text[..max])
        {
            _ = c switch
            {
                '\n' => shown.Append("\\n"),
                '\r' => shown.Append("\\r"),
                '\t' => shown.Append("\\t"),
                _ when char.IsControl(c) => shown.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => shown.Append(c),
            };
        }

        return text.Length <= max ? shown.ToString() : shown.Append("...").ToString();
    }

    /// <summary>An error about <paramref name="key"/>'s value, naming where the value came from.</summary>
    public ConfigurationException Error(string key, string problem) => new(loaded.SourceOf(key), key, problem);

    public int Int(string key, int min, int max) => checked((int)Long(key, min, max));

    public long Long(string key, long min, long max)
    {
        string raw = Raw(key);
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            throw Error(key, $"'{Shown(raw)}' is not a whole number");
        }

        if (value < min || value > max)
        {
            throw Error(key, $"{value} is outside {min}..{max}");
        }

        return value;
    }

    /// <summary>A string value (may be empty).</summary>
    public string Text(string key) => Raw(key);

    /// <summary>A switch: on/off, true/false, yes/no.</summary>
    public bool Bool(string key)
    {
        string raw = Raw(key);
        return raw.ToLowerInvariant() switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw Error(key, $"'{Shown(raw)}' is not on or off"),
        };
    }

    /// <summary>A HOCON duration (`30s`, `15m`, `24h`, a bare number is milliseconds) within min..max.</summary>
    public TimeSpan Duration(string key, TimeSpan min, TimeSpan max)
    {
        string raw = Raw(key);
        TimeSpan value;
        try
        {
            value = _config.GetTimeSpan(key, allowInfinite: false);
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw Error(key, $"'{Shown(raw)}' is not a duration (such as 30s, 15m, 24h)");
        }

        if (value < min || value > max)
        {
            throw Error(key, $"{Shown(raw)} is outside {min}..{max}");
        }

        return value;
    }

    /// <summary>A list of strings (HOCON array); empty when absent.</summary>
    public IReadOnlyList<string> List(string key)
    {
        if (!_config.HasPath(key))
        {
            return [];
        }

        var value = _config.GetValue(key);
        if (value.IsString() || value.IsObject())
        {
            // Akka reads a single string as an empty list: the value would be dropped without a word.
            // (Its IsArray() is false for an empty list, hence the test the other way round.)
            throw Error(key, "must be a list of strings, such as [\"a\", \"b\"]");
        }

        IList<string> list;
        try
        {
            list = _config.GetStringList(key);
        }
        catch (Exception e)
        {
            throw Error(key, "must be a list of strings: " + e.Message);
        }

        // Akka gives a nested list or object as a null entry.
        return list.Any(entry => entry is null) ? throw Error(key, "must be a list of strings, not of lists, objects or nulls") : [.. list];
    }

    /// <summary>The entries of a map (an object of single values), in key order; empty when absent.</summary>
    public IReadOnlyList<(string Key, string Value)> Map(string key)
    {
        var entries = new List<(string, string)>();
        if (!_config.HasPath(key))
        {
            return entries;
        }

        var value = _config.GetValue(key);
        if (!value.IsObject())
        {
            throw Error(key, "must be an object of name = value entries");
        }

        foreach (var (name, child) in value.GetObject().Items)
        {
            if (!child.IsString())
            {
                throw Error(key + "." + name, "not a single value");
            }

            entries.Add((name, child.GetString()));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return entries;
    }

    /// <summary>The entries of a map of maps (name = { key = value ... }), in name order; empty when absent.</summary>
    public IReadOnlyList<(string Name, IReadOnlyList<(string Key, string Value)> Entries)> Objects(string key)
    {
        var entries = new List<(string, IReadOnlyList<(string, string)>)>();
        if (!_config.HasPath(key))
        {
            return entries;
        }

        var value = _config.GetValue(key);
        if (!value.IsObject())
        {
            throw Error(key, "must be an object of name = { ... } entries");
        }

        foreach (var (name, child) in value.GetObject().Items)
        {
            if (!child.IsObject())
            {
                throw Error(key + "." + name, "must be an object of name = value entries");
            }

            entries.Add((name, Map(key + "." + name)));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return entries;
    }

    private string Raw(string key)
    {
        if (!_config.HasPath(key))
        {
            throw Error(key, "missing");
        }

        string? raw;
        try
        {
            var value = _config.GetValue(key);
            if (!value.IsString())
            {
                // Akka reads a list or an object as a null string, which every caller took for text.
                throw Error(key, value.IsArray() ? "must be a single value, not a list" : "must be a single value, not an object");
            }

            raw = value.GetString();
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw Error(key, "not a single value: " + e.Message);
        }

        return raw ?? throw Error(key, "has no value (null)");
    }
}
