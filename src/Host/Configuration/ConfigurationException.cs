namespace Host.Configuration;

/// <summary>A configuration problem, naming the file and the key so the user can fix it.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(string source, string? key, string problem)
        : base(key is null ? $"{source}: {problem}" : $"{source}: {SettingReader.Shown(key, 100)}: {problem}")
    {
        Source = source;
        Key = key;
    }

    public new string Source { get; }

    public string? Key { get; }
}
