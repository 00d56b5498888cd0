using System.Reflection;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Host.Configuration;

/// <summary>
/// Loads the HOCON configuration: the embedded default (hocon/datapath.conf, compiled into this
/// executable, the one place where every default is written), optionally under a user file.
/// </summary>
public static class DatapathConfig
{
    /// <summary>The name under which the embedded default reports its errors.</summary>
    public const string EmbeddedName = "hocon/datapath.conf (embedded)";

    /// <summary>The name under which the embedded firewall's flow errors are reported.</summary>
    public const string EmbeddedFlowsName = "hocon/firewall.flows (embedded)";

    public static string EmbeddedText() => Resource("datapath.conf");

    /// <summary>The reference firewall of DESIGN.md, the default flow table.</summary>
    public static string EmbeddedFirewallFlows() => Resource("firewall.flows");

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded {name} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static Config LoadEmbedded() => Parse(EmbeddedText(), EmbeddedName);

    /// <summary>The file at <paramref name="path"/> over the embedded default, or the embedded default alone for null.</summary>
    public static LoadedConfig Load(string? path) => path is null
        ? new LoadedConfig(LoadEmbedded(), EmbeddedName)
        : new LoadedConfig(LoadFile(path), path);

    /// <summary>A user file over the embedded default: keys it sets win, the rest fall back.</summary>
    public static Config LoadFile(string path)
    {
        var user = Parse(ReadFile(path), path);
        var embedded = LoadEmbedded();
        RejectUnknownKeys(user, embedded, path);
        return user.WithFallback(embedded);
    }

    /// <summary>The largest configuration file read (the embedded default is about 20 KiB).</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>
    /// The file's text, read up to <see cref="MaxFileBytes"/>: a device such as /dev/zero would
    /// otherwise be read until memory runs out. A directory or an unreadable file is a configuration
    /// error like any other, so that every command reports it the same way (exit 2).
    /// </summary>
    private static string ReadFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new ConfigurationException(path, null, "is a directory, not a configuration file");
        }

        if (!File.Exists(path))
        {
            throw new ConfigurationException(path, null, "the file does not exist");
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return BoundedText.TryRead(file, MaxFileBytes, out string text)
                ? text
                : throw new ConfigurationException(path, null, $"is larger than {MaxFileBytes / 1024} KiB: not a configuration file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException(path, null, "cannot be read: " + e.Message);
        }
    }

    /// <summary>
    /// Akka's HOCON parser accepts almost any text, so a typo or a broken line would otherwise be
    /// silently ignored. Every key of a user file under `datapath` must be one the embedded
    /// default documents; top-level sections other than `datapath` and `akka` are refused.
    /// </summary>
    private static void RejectUnknownKeys(Config user, Config embedded, string source)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        var maps = new List<string>();
        foreach (var (key, value) in Leaves(string.Empty, embedded.Root))
        {
            known.Add(key);
            if (value.IsObject())
            {
                maps.Add(key + ".");
            }
        }

        foreach (var (key, value) in Leaves(string.Empty, user.Root))
        {
            bool akka = key.StartsWith("akka.", StringComparison.Ordinal);
            if (!akka && !known.Contains(key) && !UnderMap(key, maps))
            {
                throw new ConfigurationException(source, key, "unknown key (see hocon/datapath.conf for the keys there are)");
            }

            if (!akka && !value.IsString() && !IsList(value) && !(value.IsObject() && known.Contains(key)))
            {
                throw new ConfigurationException(source, key, "has no value");
            }
        }
    }

    /// <summary>A list, empty or not: Akka's IsArray() is false for an empty one, which `controllers = []` (the embedded default's own line) is.</summary>
    private static bool IsList(HoconValue value) => value.IsArray() || (value.Values.Count > 0 && value.Values.All(element => element is HoconArray));

    /// <summary>True when <paramref name="key"/> names an entry of a map the embedded default leaves empty (such as zone-limits).</summary>
    private static bool UnderMap(string key, List<string> maps)
    {
        foreach (string map in maps)
        {
            if (key.StartsWith(map, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every leaf value with its dotted key; an empty object counts as a leaf (a map to fill in).</summary>
    private static IEnumerable<(string Key, HoconValue Value)> Leaves(string prefix, HoconValue value)
    {
        if (value.IsObject() && (prefix.Length == 0 || value.GetObject().Items.Count > 0))
        {
            foreach (var (name, child) in value.GetObject().Items)
            {
                foreach (var leaf in Leaves(prefix.Length == 0 ? name : prefix + "." + name, child))
                {
                    yield return leaf;
                }
            }
        }
        else if (prefix.Length > 0)
        {
            yield return (prefix, value);
        }
    }

    private static Config Parse(string text, string source)
    {
        if (HoconGuard.CheckText(text) is { } problem)
        {
            throw new ConfigurationException(source, null, "it is not valid HOCON: " + problem);
        }

        Config config;
        try
        {
            // Akka resolves an include through this callback, and without one fails with a NullReferenceException.
            config = ConfigurationFactory.ParseString(text, include => throw new ConfigurationException(source, null, $"include \"{SettingReader.Shown(include)}\": includes are not read (write the settings in this file)"));
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw new ConfigurationException(source, null, "it is not valid HOCON: " + SettingReader.Shown(e.Message, 200));
        }

        HoconGuard.CheckTree(config.Root, source);
        return config;
    }
}
