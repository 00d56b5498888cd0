using System.Globalization;
using Akka.Configuration;

namespace Actors.Configuration;

/// <summary>Reads typed values with range checks; every failure names the file and the key.</summary>
internal sealed class SettingReader(Config config, string source)
{
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
