using Akka.Configuration;
using Host.Configuration;

namespace Actors.Tests.Support;

/// <summary>Configurations for actor tests: the embedded default with wire messages verified on every send.</summary>
internal static class TestConfigs
{
    /// <summary>
    /// One local actor system (no cluster) on the TestKit's virtual-time scheduler, with
    /// serialize-messages on: every message a test sends or receives goes through its serializer
    /// (Hyperion for wire messages).
    /// </summary>
    public static Config LocalVirtualTime(string extra = "") =>
        ConfigurationFactory.ParseString(extra + """

            akka.actor.provider = local
            akka.actor.serialize-messages = on
            akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
            """).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>The embedded default (a single-node cluster on 127.0.0.1, OS-chosen port) with serialize-messages on.</summary>
    public static Config Cluster(string extra = "") =>
        ConfigurationFactory.ParseString(extra + """

            akka.actor.serialize-messages = on
            """).WithFallback(DatapathConfig.LoadEmbedded());
}
