using Datapath.Actions;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// The core's action context: where each action that leaves the packet-rewriting world goes. A
/// struct of sealed stages, so that the executor's and the pipeline's calls are specialised and
/// direct (no interface dispatch per packet).
/// </summary>
internal readonly struct PmdActionContext(
    OutputStage output,
    ConntrackGatherer conntrack,
    RecirculationQueue recirculation,
    GuardStage guards,
    PmdPackets packets) : IActionContext
{
    public void Output(uint port, Packet packet) => output.Output(port, packet);

    public void OutputLast(uint port, PacketBatch batch) => output.OutputLast(port, batch);

    public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt) =>
        conntrack.Gather(batch, in args, actions, resumeAt);

    public void Recirculate(PacketBatch batch) => recirculation.Recirculate(batch);

    public void Userspace(Packet packet, uint cookie) => output.Userspace(packet, cookie);

    public void Release(PacketBatch batch) => packets.Release(batch);

    public void Drop(Packet packet) => packets.Recycle(packet);

    public void Guard(PacketBatch batch, IConntrackGuard guard, ActionList actions, int resumeAt) =>
        guards.Run(batch, guard, actions, resumeAt);
}
