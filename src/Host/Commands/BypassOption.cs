using System.CommandLine;
using Host.Configuration;

namespace Host.Commands;

/// <summary>`--bypass on|off`, shared by run, replay and bench: overrides datapath.recirc-bypass.</summary>
internal static class BypassOption
{
    public static Option<string?> Create() => new Option<string?>("--bypass")
    {
        Description = "Recirculation bypass for established connections (overrides datapath.recirc-bypass).",
    }.AcceptOnlyFromAmong("on", "off");

    /// <summary>The configuration with the option layered over datapath.recirc-bypass (unchanged when it was not given).</summary>
    public static LoadedConfig Apply(LoadedConfig config, string? value) => value is null
        ? config
        : config.With("datapath.recirc-bypass", value, "--bypass");
}
