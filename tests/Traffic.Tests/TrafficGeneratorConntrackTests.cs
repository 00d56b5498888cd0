using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

/// <summary>The key evidence that the traffic is real: Open vSwitch-style conntrack accepts all of it.</summary>
public class TrafficGeneratorConntrackTests
{
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    [Theory]
    [InlineData(TrafficProtocol.Tcp)]
    [InlineData(TrafficProtocol.Udp)]
    [InlineData(TrafficProtocol.Icmp)]
    public void Conntrack_marks_each_first_packet_new_and_every_later_one_established_never_invalid(TrafficProtocol protocol)
    {
        var profile = Defaults.TrafficProfile with
        {
            Connections = 150,
            TcpPercent = protocol == TrafficProtocol.Tcp ? 100 : 0,
            UdpPercent = protocol == TrafficProtocol.Udp ? 100 : 0,
            IcmpPercent = protocol == TrafficProtocol.Icmp ? 100 : 0,
            RequestsPerConnection = 4,
            ServerInitiatedPercent = 25,
            ResetPercent = 15,
            FrameSize = TrafficWire.EveryLength,
        };
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var extraction = new ExtractionStats();
        var initiators = new Dictionary<(byte, ulong, ulong), (uint, ushort)>();
        var wire = new TrafficWire(profile);
        long frames = 0;
        wire.Filter = (_, packet) =>
        {
            var key = default(FlowKey);
            FlowExtractor.Extract(packet, ref key, extraction);
            Assert.True(ConntrackInput.TryParse(packet, in key, 0, out var input), input.InvalidReason.ToString());
            var state = table.Execute(in input, in Commit, wire.NowNs / 1_000_000).State;

            var f = ObservedFrame.Read(packet);
            if (initiators.TryAdd(f.Connection, f.Sender))
            {
                Assert.Equal(CtState.New | CtState.Tracked, state);
            }
            else
            {
                var expected = initiators[f.Connection] == f.Sender
                    ? CtState.Established | CtState.Tracked
                    : CtState.Established | CtState.Reply | CtState.Tracked;
                Assert.Equal(expected, state);
            }

            frames++;
            return WireVerdict.Forward;
        };

        wire.Run(1000);

        Assert.True(frames > 10_000, $"only {frames} frames");
        Assert.True(initiators.Count > 1000, $"only {initiators.Count} connections");
        Assert.Equal(0, extraction.Total);
        Assert.True(wire.Generator.Stats.Completed(protocol) > 1000);
        Assert.Equal(0, wire.Generator.Stats.TotalTimedOut);
    }
}
