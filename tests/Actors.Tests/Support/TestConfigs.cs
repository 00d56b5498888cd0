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
            """ + Patience).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>The embedded default (a single-node cluster on 127.0.0.1, OS-chosen port) with serialize-messages on.</summary>
    public static Config Cluster(string extra = "") =>
        ConfigurationFactory.ParseString(extra + """

            akka.actor.serialize-messages = on
            """ + Patience).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>
    /// The embedded default for tests that join several nodes (real remoting between them, which is the
    /// wire check). Without serialize-messages: it also round-trips Akka.Cluster's own membership events
    /// through a serializer that drops Member.UpNumber, so nodes disagree on which member is oldest and
    /// the coordinator singleton is never handed over (the "join stall": a node joining a cluster whose
    /// region already runs never got a coordinator).
    /// </summary>
    public static Config TwoNodes(string extra = "") =>
        ConfigurationFactory.ParseString(extra + Patience).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>
    /// How long ExpectMsg, AwaitCondition and AwaitAssert wait by default (TestKit: 3 s). A loaded
    /// machine (the whole suite beside other builds) can take seconds to start an actor and hand
    /// it its first batch; an expectation that is met never waits for this.
    /// </summary>
    private const string Patience = """

        akka.test.single-expect-default = 20s
        """;
}
