using System.Collections.Immutable;
using Actors.Wire;
using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Actors.Conntrack.Handoff;

/// <summary>
/// A node's part in moving conntrack tables: its keeper (<see cref="ShardKeeperActor"/>, started with the
/// node's conntrack region) and where a parked shard's messages go. A node that leaves the cluster
/// waits, after its region has handed its shards off and before it leaves, until every parked table
/// was taken (CoordinatedShutdown phase `conntrack-handoff`, hocon/datapath.conf).
/// </summary>
public sealed class ShardHandoff : IExtension
{
    /// <summary>The CoordinatedShutdown phase, between the regions' hand-off and leaving the cluster.</summary>
    public const string ShutdownPhase = "conntrack-handoff";

    public ShardHandoff(ExtendedActorSystem system)
    {
        Keeper = system.ActorOf(ShardKeeperActor.Props(), HandoffLimits.KeeperName);
        var shutdown = CoordinatedShutdown.Get(system);
        if (system.Settings.Config.HasPath($"akka.coordinated-shutdown.phases.{ShutdownPhase}"))
        {
            var keeper = Keeper;
            shutdown.AddTask(ShutdownPhase, "conntrack-tables-taken", async () =>
            {
                var timeout = shutdown.Timeout(ShutdownPhase);
                var cluster = Akka.Cluster.Cluster.Get(system);
                if (!cluster.State.Members.Any(m => m.Status == MemberStatus.Up && !m.Address.Equals(cluster.SelfAddress)))
                {
                    // The last node: the cluster's conntrack ends with it, nobody is left to take a table.
                    return Done.Instance;
                }

                try
                {
                    await keeper.Ask<NoneParked>(AwaitNoneParked.Instance, timeout).ConfigureAwait(false);
                }
                catch (AskTimeoutException)
                {
                    system.Log.Error("conntrack: tables still parked on this node after {0}: their connections are lost", timeout);
                }

                return Done.Instance;
            });
        }
    }

    /// <summary>This node's keeper.</summary>
    public IActorRef Keeper { get; }

    /// <summary>Whether this node hands its shards off to leave (<see cref="BeginLeaving"/>): its region is going or gone.</summary>
    public bool Leaving => Volatile.Read(ref _leaving);

    private bool _leaving;

    // Nodes (this one or others) that said they leave, until their member is removed: an immutable set replaced whole.
    private ImmutableHashSet<Address> _leavingNodes = [];

    /// <summary>This node's region is about to hand every shard off (the node leaves): moving shards' messages go to another member's region from now on.</summary>
    public void BeginLeaving() => Volatile.Write(ref _leaving, true);

    /// <summary>Whether <paramref name="node"/> said it leaves (<see cref="NodeLeaving"/>) and is still a member.</summary>
    public bool IsLeaving(Address node) => Volatile.Read(ref _leavingNodes).Contains(node);

    /// <summary>Records that <paramref name="node"/> leaves (its keeper said so).</summary>
    internal void NoteLeaving(Address node) => ImmutableInterlocked.Update(ref _leavingNodes, set => set.Add(node));

    /// <summary>Forgets a node that is no longer a member (a new node at its address is not leaving).</summary>
    internal void NoteRemoved(Address node) => ImmutableInterlocked.Update(ref _leavingNodes, set => set.Remove(node));

    public static ShardHandoff Get(ActorSystem system) => system.WithExtension<ShardHandoff, ShardHandoffProvider>();

    /// <summary>The keeper of the node at <paramref name="address"/>.</summary>
    public static ActorSelection KeeperAt(ActorSystem system, Address address) =>
        system.ActorSelection(new RootActorPath(address) / "user" / HandoffLimits.KeeperName);

    /// <summary>
    /// Where a moving shard's messages go: this node's region, unless this node is shutting down (its
    /// region hands everything off and stops); then the region of another member that is up.
    /// </summary>
    public static ICanTell LiveRegion(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        bool leaving = Get(system).Leaving || CoordinatedShutdown.Get(system).ShutdownReason is not null
            || cluster.SelfMember.Status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down;
        if (!leaving && OwnRegion(system) is { } own)
        {
            return own;
        }

        var other = cluster.State.Members.FirstOrDefault(m => m.Status == MemberStatus.Up && !m.Address.Equals(cluster.SelfAddress));
        // The last node leaving: nobody is left to take the shard, its messages have nowhere to go.
        return other is not null
            ? system.ActorSelection(new RootActorPath(other.Address) / "system" / "sharding" / ConntrackSharding.TypeName)
            : leaving ? system.DeadLetters : OwnRegion(system) ?? system.DeadLetters;
    }

    /// <summary>This node's region, or null once it has stopped (ClusterSharding then refuses to name it).</summary>
    private static IActorRef? OwnRegion(ActorSystem system)
    {
        try
        {
            return ConntrackSharding.Region(system);
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A shard's message as the region takes it, or null for one that cannot travel.</summary>
    public static IConntrackShardMessage? Addressed(int shard, object message) => message switch
    {
        IConntrackShardMessage addressed => addressed,
        IWireMessage wire => new ConntrackEnvelope(shard, wire),
        _ => null,
    };

    /// <summary>
    /// The members whose keepers a new entity asks for its table: every node that may still hold one. A
    /// joining node holds none (its region starts once it is Up) and may have no keeper yet to answer.
    /// </summary>
    public static IReadOnlyList<Address> Members(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        return [.. cluster.State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting)
            .Select(m => m.Address)
            .Append(cluster.SelfAddress)
            .Distinct()];
    }
}

/// <summary>Makes the <see cref="ShardHandoff"/> extension of an actor system.</summary>
public sealed class ShardHandoffProvider : ExtensionIdProvider<ShardHandoff>
{
    public override ShardHandoff CreateExtension(ExtendedActorSystem system) => new(system);
}
