namespace Actors.Ports;

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

    public void Received(int length)
    {
        RxPackets++;
        RxBytes += length;
    }

    public void Transmitted(int length)
    {
        TxPackets++;
        TxBytes += length;
    }

    public void DroppedOverload() => RxDroppedOverload++;

    public void DroppedPoolEmpty() => RxDroppedPoolEmpty++;

    public PortStatistics Snapshot() =>
        new(Port, RxPackets, RxBytes, TxPackets, TxBytes, RxDroppedOverload, RxDroppedPoolEmpty);
}
