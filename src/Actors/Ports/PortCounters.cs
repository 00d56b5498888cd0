namespace Actors.Ports;

/// <summary>What became of a frame a port was given to send.</summary>
internal enum TransmitOutcome
{
    Sent,

    /// <summary>Longer than the interface's MTU allows: not sent (tx dropped: too long).</summary>
    TooLong,

    /// <summary>The interface refused it or had no room (tx errors).</summary>
    Error,
}

/// <summary>The mutable counters behind one <see cref="PortStatistics"/>; owned by the port actor.</summary>
internal sealed class PortCounters(uint port)
{
    public uint Port { get; } = port;

    public long RxPackets { get; private set; }

    public long RxBytes { get; private set; }

    public long TxPackets { get; private set; }

    public long TxBytes { get; private set; }

    public long RxDroppedOverload { get; private set; }

    public long RxDroppedPoolEmpty { get; private set; }

    public long TxDroppedTooLong { get; private set; }

    public long TxErrors { get; private set; }

    public void Received(int length)
    {
        RxPackets++;
        RxBytes += length;
    }

    public void Transmitted(TransmitOutcome outcome, int length)
    {
        switch (outcome)
        {
            case TransmitOutcome.Sent:
                TxPackets++;
                TxBytes += length;
                break;
            case TransmitOutcome.TooLong:
                TxDroppedTooLong++;
                break;
            default:
                TxErrors++;
                break;
        }
    }

    public void DroppedOverload() => RxDroppedOverload++;

    public void DroppedPoolEmpty() => RxDroppedPoolEmpty++;

    public PortStatistics Snapshot() =>
        new(Port, RxPackets, RxBytes, TxPackets, TxBytes, RxDroppedOverload, RxDroppedPoolEmpty, TxDroppedTooLong: TxDroppedTooLong, TxErrors: TxErrors);
}
