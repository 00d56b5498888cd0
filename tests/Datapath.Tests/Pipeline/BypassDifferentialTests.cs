namespace Datapath.Tests.Pipeline;

/// <summary>
/// A seeded random mix through the firewall with the bypass off and in each of its modes: several TCP and
/// UDP connections opened from either side, in- and out-of-window segments, resets, FINs, reuse of
/// closed tuples, time gaps past the UDP timeouts, flushes, sweeps and revalidations. Every packet's
/// verdict and every rule counter must agree.
/// </summary>
public sealed class BypassDifferentialTests
{
    private const int Packets = 2_000;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_random_mix_of_connections_one_packet_per_batch_gives_identical_verdicts_and_rule_counters_with_and_without_bypass(int seed) =>
        Run(seed, maxBatch: 1);

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public void A_random_mix_of_connections_in_batches_gives_identical_verdicts_and_rule_counters_with_and_without_bypass(int seed) =>
        Run(seed, maxBatch: 6);

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void A_random_mix_of_connections_in_full_batches_gives_identical_verdicts_and_rule_counters_with_and_without_bypass(int seed) =>
        Run(seed, maxBatch: 32);

    private static void Run(int seed, int maxBatch)
    {
        var random = new Random(seed);
        var rig = new BypassRig();
        var mix = new TrafficMix(random);
        long now = 0;
        int sent = 0;
        var verdicts = new List<string>();
        while (sent < Packets)
        {
            now += Gap(random);
            int roll = random.Next(1000);
            if (roll < 5)
            {
                rig.FlushConntrack();
            }
            else if (roll < 15)
            {
                rig.SweepConntrack(now);
            }
            else if (roll < 20)
            {
                rig.ChangeTables(_ => { }, now);
            }

            int size = Math.Min(random.Next(1, maxBatch + 1), Packets - sent);
            var batch = Enumerable.Range(0, size).Select(_ => mix.Next()).ToList();
            verdicts.AddRange(rig.SendBatch(batch, now));
            sent += size;
        }

        // The mix is not degenerate: packets pass both ways and some are dropped.
        Assert.Contains("1", verdicts);
        Assert.Contains("2", verdicts);
        Assert.Contains("drop", verdicts);
        rig.AssertBypassTookPart();
        Assert.All(rig.PerConnectionLanes, lane => Assert.True(lane.Stats.BypassRevocations > 0, $"{lane.Mode}: nothing revoked"));
        rig.AssertSameRuleStatistics();
    }

    /// <summary>Mostly back to back, sometimes seconds, now and then past the UDP timeouts (30 and 60 s).</summary>
    private static long Gap(Random random) => random.Next(100) switch
    {
        < 80 => random.Next(3),
        < 97 => random.Next(10, 2_000),
        _ => random.Next(31_000, 70_000),
    };

    /// <summary>The next packet of a random connection, keeping each TCP session's sequence numbers.</summary>
    private sealed class TrafficMix
    {
        private readonly Random _random;
        private readonly TcpState[] _tcp;
        private readonly (ushort H1Port, ushort H2Port)[] _udp = [(41000, 53), (41001, 53), (41002, 5000), (41003, 123)];

        public TrafficMix(Random random)
        {
            _random = random;
            _tcp = Enumerable.Range(0, 6).Select(i => new TcpState((uint)(i % 3 == 2 ? 2 : 1), (ushort)(34000 + i), (ushort)(i % 2 == 0 ? 80 : 443))).ToArray();
            foreach (var state in _tcp)
            {
                state.Restart(_random);
            }
        }

        public (byte[] Frame, uint Port) Next()
        {
            if (_random.Next(100) < 35)
            {
                var (h1, h2) = _udp[_random.Next(_udp.Length)];
                return BypassFrames.Udp(_random.Next(2) == 0 ? 1u : 2u, h1, h2, payload: _random.Next(1, 200));
            }

            return _tcp[_random.Next(_tcp.Length)].Next(_random);
        }
    }

    private sealed class TcpState(uint clientPort, ushort clientTcpPort, ushort serverTcpPort)
    {
        private TcpSession _session = null!;
        private int _step;

        public void Restart(Random random)
        {
            _session = new TcpSession(clientPort, clientTcpPort, serverTcpPort, (uint)random.Next(), (uint)random.Next());
            _step = 0;
        }

        public (byte[] Frame, uint Port) Next(Random random)
        {
            switch (_step++)
            {
                case 0:
                    return _session.Syn();
                case 1:
                    return _session.SynAck();
                case 2:
                    return _session.Ack();
            }

            bool fromClient = random.Next(2) == 0;
            int roll = random.Next(100);
            if (roll < 3)
            {
                // A new connection on the same tuple, whatever state the old one is in.
                Restart(random);
                return Next(random);
            }

            return roll switch
            {
                < 8 => _session.Rst(fromClient),
                < 13 => _session.Fin(fromClient),
                < 20 => _session.OutOfWindow(fromClient, random.Next(1, 100)),
                < 25 => _session.Ack(fromClient),
                _ => _session.Data(fromClient, random.Next(1, 400)),
            };
        }
    }
}
