using Akka.Actor;

namespace Bench.Nodes;

/// <summary>Node B's /user/bench-node: answers for the process's memory (<see cref="ProcessMemory"/>).</summary>
internal sealed class BenchNodeActor : ReceiveActor
{
    public const string Name = "bench-node";

    public BenchNodeActor(ProcessMemory memory)
    {
        Receive<GetBenchNodeReport>(_ => Sender.Tell(memory.Read()));
        Receive<ResetBenchNodePeaks>(_ =>
        {
            memory.Mark();
            Sender.Tell(memory.Read());
        });
    }

    public static Props Props(ProcessMemory memory) => Akka.Actor.Props.Create(() => new BenchNodeActor(memory));
}
