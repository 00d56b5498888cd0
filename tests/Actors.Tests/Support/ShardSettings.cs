using Actors.Configuration;

namespace Actors.Tests.Support;

internal static class ShardSettings
{
    /// <summary>The embedded default's conntrack settings.</summary>
    public static ConntrackSettings Default() =>
        DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName).Conntrack;
}
