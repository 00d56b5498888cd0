using System.CommandLine;
using Datapath.Bypass;
using Host.Configuration;

namespace Host.Commands;

/// <summary>`--bypass off|megaflow|per-connection|emc-only|on`, shared by run, replay and bench: overrides datapath.recirc-bypass (on is megaflow).</summary>
internal static class BypassOption
{
    public static Option<string?> Create() => new Option<string?>("--bypass")
    {
        Description = "Recirculation bypass for established connections: off, megaflow, per-connection or emc-only; on is megaflow (overrides datapath.recirc-bypass).",
    }.AcceptOnlyFromAmong([.. BypassModes.Names]);

    /// <summary>The configuration with the option layered over datapath.recirc-bypass (unchanged when it was not given).</summary>
    public static LoadedConfig Apply(LoadedConfig config, string? value) => value is null
        ? config
        : config.With("datapath.recirc-bypass", value, "--bypass");
}
