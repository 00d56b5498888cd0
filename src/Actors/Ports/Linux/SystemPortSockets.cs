namespace Actors.Ports.Linux;

/// <summary>
/// The sockets of one system port, opened together or not at all: one transmit socket (which also
/// holds the interface in promiscuous mode) and one receive socket per queue, joined to one hash
/// fanout group when there are several, so the kernel spreads the interface's flows over them.
/// </summary>
internal sealed class SystemPortSockets : IDisposable
{
    private SystemPortSockets(LinuxInterface device, PacketSocket transmit, IReadOnlyList<PacketSocket> receive)
    {
        Interface = device;
        Transmit = transmit;
        Receive = receive;
    }

    public LinuxInterface Interface { get; }

    public PacketSocket Transmit { get; }

    /// <summary>One per queue (a single one where the kernel cannot make a fanout group that ignores outgoing frames); each is handed to (and closed by) its receive thread.</summary>
    public IReadOnlyList<PacketSocket> Receive { get; }

    /// <exception cref="SystemPortException">No such interface, no CAP_NET_RAW, or a socket option the kernel refused.</exception>
    public static SystemPortSockets Open(string interfaceName, int queues, int socketBufferBytes)
    {
        var device = LinuxInterface.Find(interfaceName);
        var opened = new List<PacketSocket>();
        try
        {
            var transmit = PacketSocket.OpenTransmitter(device, socketBufferBytes);
            opened.Add(transmit);
            transmit.SetPromiscuous();
            var receive = new List<PacketSocket> { PacketSocket.OpenReceiver(device, socketBufferBytes) };
            opened.Add(receive[0]);
            if (queues > 1 && receive[0].TryCreateFanoutGroup() is { } group)
            {
                for (int q = 1; q < queues; q++)
                {
                    receive.Add(PacketSocket.OpenReceiver(device, socketBufferBytes));
                    opened.Add(receive[q]);
                    receive[q].JoinFanoutGroup(group);
                }
            }

            opened.Clear();
            return new SystemPortSockets(device, transmit, receive);
        }
        finally
        {
            foreach (var socket in opened)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Closes the transmit socket (the receive sockets belong to their threads once started).</summary>
    public void Dispose() => Transmit.Dispose();

    /// <summary>Closes everything: for sockets whose threads never started.</summary>
    public void DisposeAll()
    {
        Transmit.Dispose();
        foreach (var socket in Receive)
        {
            socket.Dispose();
        }
    }
}
