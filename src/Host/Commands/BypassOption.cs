using System.CommandLine;
using Actors.Configuration;

namespace Host.Commands;

/// <summary>`--bypass on|off`, shared by run, replay and bench: overrides datapath.recirc-bypass.</summary>
internal static class BypassOption
{
    public static Option<string?> Create() => new Option<string?>("--bypass")
    {
        Description = "Recirculation bypass for established connections (overrides datapath.recirc-bypass).",
    }.AcceptOnlyFromAmong("on", "off");

    /// <summary>The settings with the option applied (unchanged when it was not given).</summary>
    public static DatapathSettings Apply(DatapathSettings settings, string? value) => value is null
        ? settings
        : settings with { Pmd = settings.Pmd with { RecircBypass = value == "on" } };
}
