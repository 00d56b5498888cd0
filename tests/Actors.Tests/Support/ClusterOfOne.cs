using Akka.Actor;

namespace Actors.Tests.Support;

/// <summary>A test kit's actor system made a cluster of one: it joins itself and is Up.</summary>
internal static class ClusterOfOne
{
    public static async Task JoinSelfAsync(ActorSystem system, TimeSpan patience)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(patience);
    }
}
