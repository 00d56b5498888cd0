using System.Globalization;
using Akka.Configuration;

namespace Actors.Configuration;

/// <summary>Reads typed values with range checks; every failure names the file and the key.</summary>
internal sealed class SettingReader(Config config, string source)
{
    public string Source => source;

    public int Int(string key, int min, int max) => checked((int)Long(key, min, max));

    public long Long(string key, long min, long max)
    {
        string raw = Raw(key);
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            throw new ConfigurationException(source, key, $"'{raw}' is not a whole number");
        }

        if (value < min || value > max)
        {
            throw new ConfigurationException(source, key, $"{value} is outside {min}..{max}");
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
            _ => throw new ConfigurationException(source, key, $"'{raw}' is not on or off"),
        };
    }

    /// <summary>A HOCON duration (`30s`, `15m`, `24h`, a bare number is milliseconds) within min..max.</summary>
    public TimeSpan Duration(string key, TimeSpan min, TimeSpan max)
    {
        string raw = Raw(key);
        TimeSpan value;
        try
        {
            value = config.GetTimeSpan(key, allowInfinite: false);
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw new ConfigurationException(source, key, $"'{raw}' is not a duration (such as 30s, 15m, 24h)");
        }

        if (value < min || value > max)
        {
            throw new ConfigurationException(source, key, $"{raw} is outside {min}..{max}");
        }

        return value;
    }

    /// <summary>A list of strings (HOCON array); empty when absent.</summary>
    public IReadOnlyList<string> List(string key)
    {
        if (!config.HasPath(key))
        {
            return [];
        }

        try
        {
            return config.GetStringList(key).ToArray();
        }
        catch (Exception e)
        {
            throw new ConfigurationException(source, key, "must be a list of strings: " + e.Message);
        }
    }

    /// <summary>The entries of a map (an object of single values), in key order; empty when absent.</summary>
    public IReadOnlyList<(string Key, string Value)> Map(string key)
    {
        var entries = new List<(string, string)>();
        if (!config.HasPath(key))
        {
            return entries;
        }

        var value = config.GetValue(key);
        if (!value.IsObject())
        {
            throw new ConfigurationException(source, key, "must be an object of name = value entries");
        }

        foreach (var (name, child) in value.GetObject().Items)
        {
            if (!child.IsString())
            {
                throw new ConfigurationException(source, key + "." + name, "not a single value");
            }

            entries.Add((name, child.GetString()));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return entries;
    }

    private string Raw(string key)
    {
        if (!config.HasPath(key))
        {
            throw new ConfigurationException(source, key, "missing");
        }

        try
        {
            return config.GetString(key);
        }
        catch (Exception e)
        {
            throw new ConfigurationException(source, key, "not a single value: " + e.Message);
        }
    }
}
