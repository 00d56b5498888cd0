using System.CommandLine;
using Actors.Configuration;
using Datapath.Bypass;

namespace Host.Commands;

/// <summary>`--bypass off|megaflow|per-connection|emc-only|on`, shared by run, replay and bench: overrides datapath.recirc-bypass (on is megaflow).</summary>
internal static class BypassOption
{
    public static Option<string?> Create() => new Option<string?>("--bypass")
    {
        Description = "Recirculation bypass for established connections: off, megaflow, per-connection or emc-only; on is megaflow (overrides datapath.recirc-bypass).",
    }.AcceptOnlyFromAmong([.. BypassModes.Names]);

    /// <summary>The settings with the option applied (unchanged when it was not given).</summary>
    public static DatapathSettings Apply(DatapathSettings settings, string? value) => value is not null && BypassModes.TryParse(value, out var mode)
        ? settings with { Pmd = settings.Pmd with { Bypass = mode } }
        : settings;
}
