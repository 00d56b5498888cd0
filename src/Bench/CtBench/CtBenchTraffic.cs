using Datapath.Conntrack;

namespace Bench.CtBench;

/// <summary>Synthetic conntrack inputs for ct-bench: UDP connections between 10.x addresses, both directions.</summary>
internal static class CtBenchTraffic
{
    private const byte Udp = 17;

    /// <summary>
    /// One sender's traffic: <paramref name="connections"/> UDP connections of its own (distinct
    /// source ports per sender), each sent once in the original then once in the reply direction,
    /// in an order that jumps between connections so batches spread over the shards.
    /// </summary>
    public static ConntrackInput[] For(int sender, int connections)
    {
        var inputs = new ConntrackInput[connections * 2];
        int stride = Coprime(connections);
        for (int i = 0; i < connections; i++)
        {
            int c = (int)((long)i * stride % connections);
            var original = Input(sender, c);
            var reply = original;
            reply.Key = original.Key.Reverse();
            inputs[i] = original;
            inputs[connections + i] = reply;
        }

        return inputs;
    }

    private static ConntrackInput Input(int sender, int connection)
    {
        var input = default(ConntrackInput);
        input.Key.Src = 0x0A00_0000u | (uint)(sender << 16) | (uint)(connection / 60000);
        input.Key.Dst = 0x0A80_0001u;
        input.Key.SrcPort = (ushort)(1024 + (connection % 60000));
        input.Key.DstPort = 53;
        input.Key.Protocol = Udp;
        input.PayloadLength = 18;
        input.ShardHash = ConntrackInputParser.ShardHashOf(in input.Key);
        return input;
    }

    private static int Coprime(int n)
    {
        int stride = Math.Max(1, (int)(n * 0.618));
        while (Gcd(stride, n) != 1)
        {
            stride++;
        }

        return stride;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
