using System.Collections.Concurrent;
using Actors.OpenFlow;

namespace Actors.Tests.OpenFlow;

/// <summary>A transport that records what the connection actor sends.</summary>
internal sealed class FakeTransport : IOpenFlowTransport
{
    private readonly BlockingCollection<byte[]> _sent = [];

    public bool Closed { get; private set; }

    public long QueuedBytes { get; set; }

    public bool Send(byte[] message)
    {
        if (Closed)
        {
            return false;
        }

        _sent.Add(message);
        return true;
    }

    public void Close() => Closed = true;

    /// <summary>The next message sent (fails the test after 20 s).</summary>
    public byte[] Next()
    {
        Assert.True(_sent.TryTake(out var message, TimeSpan.FromSeconds(20)), "the connection sent nothing within 20 s");
        return message!;
    }

    /// <summary>The next message of OpenFlow type <paramref name="type"/>, skipping others (echo requests...).</summary>
    public byte[] Next(byte type)
    {
        while (true)
        {
            var message = Next();
            if (message[1] == type)
            {
                return message;
            }
        }
    }

    /// <summary>True when nothing more is sent within <paramref name="wait"/>.</summary>
    public bool Quiet(TimeSpan wait) => !_sent.TryTake(out _, wait);
}
