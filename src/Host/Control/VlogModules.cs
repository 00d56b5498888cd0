using System.Globalization;
using System.Text;

namespace Host.Control;

/// <summary>Open vSwitch's log levels (lib/vlog.c), least to most verbose.</summary>
internal enum VlogLevel
{
    Off,
    Emer,
    Err,
    Warn,
    Info,
    Dbg,
}

/// <summary>Open vSwitch's log destinations; only the console (stderr) is written here.</summary>
internal enum VlogDestination
{
    Console,
    Syslog,
    File,
}

/// <summary>
/// The log modules of a running datapath and their levels per destination, as ovs-appctl's
/// vlog/list shows them and vlog/set changes them (lib/vlog.c: same table, same spec syntax, same
/// errors). A module is something that really logs: "control" (this channel: refused, evicted and
/// timed-out clients, protocol errors, each request at dbg), and "akka" (the actor system's log,
/// whose console level is applied to Akka's logging bus when it changes). Console lines go to the
/// run's stderr. Syslog and file levels are kept and shown as Open vSwitch keeps them without a
/// log file, but nothing is written there. Thread-safe: connections log concurrently.
/// </summary>
internal sealed class VlogModules
{
    private static readonly string[] LevelNames = ["off", "emer", "err", "warn", "info", "dbg"];
    private static readonly string[] DestinationNames = ["console", "syslog", "file"];

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, VlogLevel[]> _levels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Action<VlogLevel>> _onConsoleChange = new(StringComparer.Ordinal);
    private readonly TextWriter _console;

    /// <param name="console">Where console lines go (the run's stderr).</param>
    public VlogModules(TextWriter console)
    {
        _console = console;
        Add("control", VlogLevel.Warn);
    }

    /// <summary>Registers a module whose console level starts at <paramref name="console"/>; <paramref name="onConsoleChange"/> applies a new one.</summary>
    public void Add(string module, VlogLevel console, Action<VlogLevel>? onConsoleChange = null)
    {
        lock (_lock)
        {
            _levels[module] = [console, VlogLevel.Off, VlogLevel.Off];
            if (onConsoleChange is not null)
            {
                _onConsoleChange[module] = onConsoleChange;
            }
        }
    }

    public VlogLevel Level(string module, VlogDestination destination)
    {
        lock (_lock)
        {
            return _levels.TryGetValue(module, out var levels) ? levels[(int)destination] : VlogLevel.Off;
        }
    }

    /// <summary>Writes "LEVEL|module|message" on the console when the module's console level allows it.</summary>
    public void Log(string module, VlogLevel level, string message)
    {
        if (level == VlogLevel.Off || Level(module, VlogDestination.Console) < level)
        {
            return;
        }

        string line = $"{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}|{module}|{LevelNames[(int)level].ToUpperInvariant()}|{message}";
        lock (_lock)
        {
            _console.WriteLine(line);
        }
    }

    /// <summary>vlog/list: the header and one line per module, sorted (vlog_get_levels).</summary>
    public string List()
    {
        var sb = new StringBuilder();
        sb.Append("                 console    syslog    file\n");
        sb.Append("                 -------    ------    ------\n");
        lock (_lock)
        {
            foreach (var (module, levels) in _levels)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{module,-16}  {Name(levels[0]),4}       {Name(levels[1]),4}       {Name(levels[2]),4}\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// One vlog/set spec (vlog_set_levels_from_string): words split on spaces, commas, colons and
    /// tabs, each a module, a destination, a level or "ANY"; missing parts mean every module, every
    /// destination, and dbg. Null when applied, else Open vSwitch's error text.
    /// </summary>
    public string? Set(string spec)
    {
        string[] words = spec.Split([' ', ',', ':', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 0 && (words[0].Equals("PATTERN", StringComparison.OrdinalIgnoreCase) || words[0].Equals("FACILITY", StringComparison.OrdinalIgnoreCase)))
        {
            return $"{words[0]} is not supported here (only levels are)";
        }

        string? module = null;
        VlogDestination? destination = null;
        VlogLevel? level = null;
        lock (_lock)
        {
            foreach (string word in words)
            {
                if (word.Equals("ANY", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                int d = Array.FindIndex(DestinationNames, n => n.Equals(word, StringComparison.OrdinalIgnoreCase));
                int l = Array.FindIndex(LevelNames, n => n.Equals(word, StringComparison.OrdinalIgnoreCase));
                string? m = _levels.Keys.FirstOrDefault(k => k.Equals(word, StringComparison.OrdinalIgnoreCase));
                if (d >= 0)
                {
                    if (destination is not null)
                    {
                        return "cannot specify multiple destinations";
                    }

                    destination = (VlogDestination)d;
                }
                else if (l >= 0)
                {
                    if (level is not null)
                    {
                        return "cannot specify multiple levels";
                    }

                    level = (VlogLevel)l;
                }
                else if (m is not null)
                {
                    if (module is not null)
                    {
                        return "cannot specify multiple modules";
                    }

                    module = m;
                }
                else
                {
                    return $"no destination, level, or module \"{word}\"";
                }
            }

            foreach (var (name, levels) in _levels)
            {
                if (module is not null && name != module)
                {
                    continue;
                }

                for (int i = 0; i < levels.Length; i++)
                {
                    if (destination is null || (int)destination == i)
                    {
                        levels[i] = level ?? VlogLevel.Dbg;
                    }
                }

                if (_onConsoleChange.TryGetValue(name, out var apply) && destination is null or VlogDestination.Console)
                {
                    apply(levels[0]);
                }
            }
        }

        return null;
    }

    private static string Name(VlogLevel level) => LevelNames[(int)level].ToUpperInvariant();
}
