using Akka.Configuration;
using Host.Configuration;

namespace Actors.Tests.Support;

/// <summary>Configurations for actor tests: the embedded default with wire messages verified on every send.</summary>
internal static class TestConfigs
{
    // The TestKit's listener instead of the product's stderr logger, so that EventFilter sees the log.
    private const string TestKitLogger = """

        akka.loggers = ["Akka.TestKit.TestEventListener, Akka.TestKit"]
        """;

    /// <summary>The TestKit's own defaults (no datapath configuration), with this suite's patience.</summary>
    public static Config TestKitDefaults() => ConfigurationFactory.ParseString(Patience);

    /// <summary>The embedded default as the product runs it (a standalone node: local conntrack shards) with serialize-messages on.</summary>
    public static Config Standalone(string extra = "") =>
        ConfigurationFactory.ParseString(extra + TestKitLogger + """

            akka.actor.serialize-messages = on
            """).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>
    /// One local actor system (no cluster) on the TestKit's virtual-time scheduler, with
    /// serialize-messages on: every message a test sends or receives goes through its serializer
    /// (Hyperion for wire messages).
    /// </summary>
    public static Config LocalVirtualTime(string extra = "") =>
        ConfigurationFactory.ParseString(extra + TestKitLogger + """

            akka.actor.provider = local
            akka.actor.serialize-messages = on
            akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
            """ + Patience).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>The embedded default made a single-node cluster (on 127.0.0.1, OS-chosen port: sharding, as a cluster of several nodes runs it) with serialize-messages on.</summary>
    public static Config Cluster(string extra = "") =>
        ConfigurationFactory.ParseString(extra + TestKitLogger + """

            akka.actor.provider = cluster
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
        ConfigurationFactory.ParseString(extra + """

            akka.actor.provider = cluster
            """ + Patience).WithFallback(DatapathConfig.LoadEmbedded());

    /// <summary>
    /// How long ExpectMsg, AwaitCondition and AwaitAssert (single-expect-default), and an
    /// EventFilter's ExpectOne without a timeout (filter-leeway), wait by default (TestKit: 3 s
    /// each). A loaded machine (the whole suite beside other builds) can take seconds to start an
    /// actor and hand it its first batch; an expectation that is met never waits for this.
    /// </summary>
    private const string Patience = """

        akka.test.single-expect-default = 20s
        akka.test.filter-leeway = 20s
        """;
}
