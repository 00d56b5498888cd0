namespace Datapath.Bypass;

/// <summary>
/// How a PMD keeps its bypass flows (DESIGN.md, recirculation bypass; measured in BENCHMARKS.md).
/// Written in configuration and on the command line as <see cref="BypassModes.Names"/>.
/// </summary>
public enum BypassMode : byte
{
    /// <summary>No bypass: every packet of an established connection runs ct, then recirculates.</summary>
    Off,

    /// <summary>
    /// The default: one masked bypass flow per pair of megaflows, shared by every connection through
    /// them, looked up after the EMC and before the megaflow classifier. No per-connection state.
    /// </summary>
    Megaflow,

    /// <summary>
    /// One exact bypass flow per connection direction, in a table looked up before the EMC; the
    /// connection's conntrack owner revokes it when the connection leaves the established state.
    /// </summary>
    PerConnection,

    /// <summary>Per-connection bypass flows looked up through the EMC alone (the RFC patch's way).</summary>
    EmcOnly,
}

/// <summary>The words that name a <see cref="BypassMode"/> (HOCON datapath.recirc-bypass, --bypass).</summary>
public static class BypassModes
{
    /// <summary>Every accepted word: the four modes, and <c>on</c> for the default mode.</summary>
    public static IReadOnlyList<string> Names { get; } = ["off", "megaflow", "per-connection", "emc-only", "on"];

    /// <summary>The mode a word names (<c>on</c> is <see cref="BypassMode.Megaflow"/>); false for any other word.</summary>
    public static bool TryParse(string? text, out BypassMode mode)
    {
        switch (text)
        {
            case "off":
                mode = BypassMode.Off;
                return true;
            case "on" or "megaflow":
                mode = BypassMode.Megaflow;
                return true;
            case "per-connection":
                mode = BypassMode.PerConnection;
                return true;
            case "emc-only":
                mode = BypassMode.EmcOnly;
                return true;
            default:
                mode = default;
                return false;
        }
    }

    /// <summary>The word for <paramref name="mode"/>, as configuration and reports write it.</summary>
    public static string Name(this BypassMode mode) => mode switch
    {
        BypassMode.Off => "off",
        BypassMode.Megaflow => "megaflow",
        BypassMode.PerConnection => "per-connection",
        BypassMode.EmcOnly => "emc-only",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown bypass mode."),
    };
}
