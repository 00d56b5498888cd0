using Akka.Actor;

namespace Host.Control;

/// <summary>
/// What the control channel talks to: the bridge (flows, ports, PMDs through its fan-out), the
/// conntrack shard region, how receive queues map to PMDs (for pmd-rxq-show), how long a command
/// waits for the actors, how to ask the main job to end, and the actor system (whose log level
/// vlog/set changes).
/// </summary>
internal sealed record ControlTargets(
    IActorRef Bridge,
    IActorRef Conntrack,
    int ConntrackShards,
    int QueuesPerPort,
    TimeSpan Timeout,
    Action RequestExit,
    ActorSystem? System = null);
