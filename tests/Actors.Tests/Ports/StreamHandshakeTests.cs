using Actors.Ports;

namespace Actors.Tests.Ports;

/// <summary>The stream port's warm-up, step by step, without an actor system.</summary>
public sealed class StreamHandshakeTests
{
    private readonly Dictionary<uint, long> _tx = new() { [1] = 0, [2] = 0 };

    [Fact]
    public void Steps_alternate_ports_and_end_established_when_every_frame_was_forwarded()
    {
        var handshake = new StreamHandshake(_ => 3, steps: 3, port => _tx[port]);
        handshake.Begin();

        var ports = new List<(uint From, uint To)>();
        var outcomes = new List<HandshakeStep>();
        for (int step = 0; step < 3; step++)
        {
            ports.Add((handshake.Port, handshake.Peer));
            Assert.Equal([0, 1, 2], Enumerable.Range(0, 3).Select(_ => handshake.TakeNext()));
            Assert.True(handshake.StepSent);
            _tx[handshake.Peer] += 3;
            outcomes.Add(handshake.FinishStep(out string? failure));
            Assert.Null(failure);
        }

        Assert.Equal([(1u, 2u), (2u, 1u), (1u, 2u)], ports);
        Assert.Equal([HandshakeStep.Next, HandshakeStep.Next, HandshakeStep.Established], outcomes);
    }

    [Fact]
    public void A_frame_not_forwarded_fails_the_step_naming_it_and_the_ports()
    {
        _tx[1] = 7;
        var handshake = new StreamHandshake(_ => 4, steps: 2, port => _tx[port]);
        handshake.Begin();
        TakeAll(handshake, 4);
        _tx[2] += 4;
        Assert.Equal(HandshakeStep.Next, handshake.FinishStep(out _));
        TakeAll(handshake, 4);

        // Port 1 had sent 7 frames before the warm-up; 3 of the 4 replies reach it.
        _tx[1] += 3;

        Assert.Equal(HandshakeStep.Failed, handshake.FinishStep(out string? failure));
        Assert.Equal("warm-up step 2 of 2: 3 of 4 frames from port 2 were forwarded to port 1", failure);
    }

    [Fact]
    public void No_connection_is_taken_twice_in_a_step()
    {
        var handshake = new StreamHandshake(_ => 1, steps: 2, port => _tx[port]);
        handshake.Begin();
        handshake.TakeNext();

        Assert.Throws<InvalidOperationException>(() => handshake.TakeNext());
    }

    private static void TakeAll(StreamHandshake handshake, int connections)
    {
        for (int i = 0; i < connections; i++)
        {
            handshake.TakeNext();
        }
    }
}
