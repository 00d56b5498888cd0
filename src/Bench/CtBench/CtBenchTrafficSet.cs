using Datapath.Conntrack;

namespace Bench.CtBench;

/// <summary>Each sender's traffic for one ct-bench run.</summary>
internal sealed class CtBenchTrafficSet(int senders, int senderBase, int connections)
{
    private readonly ConntrackInput[][] _traffic = Build(senders, senderBase, connections);

    public ConntrackInput[] this[int sender] => _traffic[sender];

    private static ConntrackInput[][] Build(int senders, int senderBase, int connections)
    {
        var traffic = new ConntrackInput[senders][];
        for (int s = 0; s < senders; s++)
        {
            traffic[s] = CtBenchTraffic.For(senderBase + s, connections);
        }

        return traffic;
    }
}
