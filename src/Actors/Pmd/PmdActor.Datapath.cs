using Akka.Actor;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.OpenFlow.Trace;
using Datapath.Upcalls;

namespace Actors.Pmd;

/// <summary>The PMD's answers to the control channel about its megaflows and counters (cold path).</summary>
public sealed partial class PmdActor
{
    private readonly List<IActorRef> _flushWaiters = [];

    private void ReceiveDatapathCommands()
    {
        Receive<DumpMegaflows>(_ => Sender.Tell(new MegaflowsDumped(_id, DescribeMegaflows())));
        Receive<FlushMegaflows>(_ =>
        {
            _flushWaiters.Add(Sender);
            AfterWork();
        });
        Receive<ClearPmdStatistics>(_ =>
        {
            _core.ClearStatistics();

            // With the core's sent and output counts: the identity received + injected = sent + dropped + held holds from here.
            _packetsInjected = 0;
            _controllerDrops = 0;
            _outputsAtClear = (_transmitter.Sent, _transmitter.BatchesSent);
            Sender.Tell(new PmdStatisticsCleared(_id));
        });
    }

    private List<MegaflowDescription> DescribeMegaflows()
    {
        long now = CurrentMs();
        var flows = new List<MegaflowDescription>();
        foreach (var flow in _core.Megaflows)
        {
            long? used = flow.Stats.Packets == 0 ? null : Math.Max(0, now - flow.Stats.UsedMs);
            flows.Add(new MegaflowDescription(
                FlowFormatter.Format(in flow.Key, in flow.Mask),
                flow.Stats.Packets,
                flow.Stats.Bytes,
                used,
                flow.Stats.TcpFlags,
                DatapathActionText.Format(flow.Actions.Actions, in flow.Key)));
        }

        return flows;
    }

    /// <summary>
    /// dpctl/del-flows, run from AfterWork when no conntrack answer is outstanding (removing a
    /// megaflow may free a recirculation id a packet in flight carries, as for revalidation).
    /// </summary>
    private void FlushMegaflowsWhenQuiet()
    {
        if (_flushWaiters.Count == 0 || _core.OutstandingConntrack != 0)
        {
            return;
        }

        var result = _core.Revalidate(new RemoveEveryFlow(_revalidator), CurrentMs());
        _megaflowsRemoved += result.Removed;
        foreach (var waiter in _flushWaiters)
        {
            waiter.Tell(new MegaflowsFlushed(_id, result.Removed));
        }

        _flushWaiters.Clear();
    }

    /// <summary>Judges every megaflow stale, keeping the real revalidator's statistics push and release.</summary>
    private sealed class RemoveEveryFlow(IFlowRevalidator inner) : IFlowRevalidator
    {
        public void PushStatistics(Megaflow flow) => inner.PushStatistics(flow);

        public bool Revalidate(Megaflow flow)
        {
            inner.PushStatistics(flow);
            return false;
        }

        public void Uninstalled(Megaflow flow) => inner.Uninstalled(flow);
    }
}
