namespace Traffic;

/// <summary>
/// Counters of one <see cref="TrafficGenerator"/>: connections by protocol and outcome, frames by
/// port. Owned by the generator's single owner, like the rest of its state; not thread-safe.
/// </summary>
public sealed class TrafficStats
{
    private const int Protocols = 3;

    private readonly long[] _opened = new long[Protocols];
    private readonly long[] _completed = new long[Protocols];
    private readonly long[] _reset = new long[Protocols];
    private readonly long[] _timedOut = new long[Protocols];
    private readonly long[] _framesGenerated = new long[2];
    private readonly long[] _bytesGenerated = new long[2];
    private readonly long[] _framesDelivered = new long[2];

    /// <summary>Connections started (the initial ones and every replacement).</summary>
    public long Opened(TrafficProtocol protocol) => _opened[(int)protocol];

    /// <summary>Connections that ran all their exchanges and closed (FIN or RST), or finished their last exchange (UDP, ICMP).</summary>
    public long Completed(TrafficProtocol protocol) => _completed[(int)protocol];

    /// <summary>Of <see cref="Completed"/>, the TCP connections that ended with a RST.</summary>
    public long Reset(TrafficProtocol protocol) => _reset[(int)protocol];

    /// <summary>Connections given up because an answer they waited for never came (the datapath dropped a frame).</summary>
    public long TimedOut(TrafficProtocol protocol) => _timedOut[(int)protocol];

    public long TotalOpened => _opened[0] + _opened[1] + _opened[2];

    public long TotalCompleted => _completed[0] + _completed[1] + _completed[2];

    public long TotalTimedOut => _timedOut[0] + _timedOut[1] + _timedOut[2];

    /// <summary>Frames the host behind <paramref name="port"/> (1 or 2) generated.</summary>
    public long FramesGenerated(uint port) => _framesGenerated[port - 1];

    public long BytesGenerated(uint port) => _bytesGenerated[port - 1];

    /// <summary>Frames the datapath transmitted to the host behind <paramref name="port"/>.</summary>
    public long FramesDelivered(uint port) => _framesDelivered[port - 1];

    /// <summary>Frames sent by the responding side of a connection; each answers a frame that was delivered to it.</summary>
    public long RepliesSent { get; private set; }

    /// <summary>
    /// Delivered frames no host answers: not IPv4 TCP/UDP/ICMP, of no live connection (a stale one,
    /// or addressed elsewhere), back on the port they came from, or out of sequence.
    /// </summary>
    public long Ignored { get; private set; }

    /// <summary>Frames that could not be queued because a host's transmit queue was full (never expected).</summary>
    public long QueueOverflows { get; private set; }

    internal void RecordOpened(TrafficProtocol protocol) => _opened[(int)protocol]++;

    internal void RecordCompleted(TrafficProtocol protocol, bool reset)
    {
        _completed[(int)protocol]++;
        if (reset)
        {
            _reset[(int)protocol]++;
        }
    }

    internal void RecordTimedOut(TrafficProtocol protocol) => _timedOut[(int)protocol]++;

    internal void RecordGenerated(uint port, int length, bool reply)
    {
        _framesGenerated[port - 1]++;
        _bytesGenerated[port - 1] += length;
        if (reply)
        {
            RepliesSent++;
        }
    }

    internal void RecordDelivered(uint port) => _framesDelivered[port - 1]++;

    internal void RecordIgnored() => Ignored++;

    internal void RecordQueueOverflow() => QueueOverflows++;
}
