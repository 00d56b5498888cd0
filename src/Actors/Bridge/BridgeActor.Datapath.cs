using Actors.Pmd;
using Akka.Actor;

namespace Actors.Bridge;

/// <summary>The bridge's fan-outs for the control channel: datapath flows and PMD counters.</summary>
public sealed partial class BridgeActor
{
    private readonly Dictionary<long, IActorRef> _datapathRequests = [];

    private void ReceiveDatapathCommands()
    {
        Receive<DumpDatapathFlows>(_ => AskEveryPmd<MegaflowsDumped>(DumpMegaflows.Instance));
        Receive<DeleteDatapathFlows>(_ => AskEveryPmd<MegaflowsFlushed>(FlushMegaflows.Instance));
        Receive<ClearAllPmdStatistics>(_ => AskEveryPmd<PmdStatisticsCleared>(ClearPmdStatistics.Instance));
        Receive<PmdAnswersGathered<MegaflowsDumped>>(g =>
            ReplyDatapath(g.RequestId, new DatapathFlowsDumped(g.Answers.OrderBy(a => a.Pmd).ToArray(), g.Missing)));
        Receive<PmdAnswersGathered<MegaflowsFlushed>>(g =>
            ReplyDatapath(g.RequestId, new DatapathFlowsDeleted(g.Answers.Sum(a => a.Removed), g.Missing)));
        Receive<PmdAnswersGathered<PmdStatisticsCleared>>(g =>
            ReplyDatapath(g.RequestId, new PmdsCleared(g.Answers.Count, g.Missing)));
    }

    /// <summary>Sends <paramref name="question"/> to every PMD through a gatherer; the asker gets the combined answer.</summary>
    private void AskEveryPmd<T>(object question)
    {
        long id = ++_nextRequest;
        _datapathRequests[id] = Sender;
        AskThroughGatherer<T>(id, _pmds, question);
    }

    private void ReplyDatapath(long requestId, object answer)
    {
        if (_datapathRequests.Remove(requestId, out var replyTo))
        {
            replyTo.Tell(answer);
        }
    }
}
