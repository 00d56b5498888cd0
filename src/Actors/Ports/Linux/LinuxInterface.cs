using System.Net.NetworkInformation;

namespace Actors.Ports.Linux;

/// <summary>A Linux network interface as a system port needs it: its index (to bind packet sockets) and its MTU.</summary>
internal sealed record LinuxInterface(string Name, int Index, int Mtu)
{
    /// <summary>Ethernet header (14) plus one 802.1Q tag (4): what the kernel allows beyond the MTU.</summary>
    private const int EthernetHeader = 14;
    private const int VlanTag = 4;

    /// <summary>The longest frame the interface may carry: the MTU plus the Ethernet header and one VLAN tag.</summary>
    public int MaxFrame => Mtu + EthernetHeader + VlanTag;

    /// <summary>Looks the interface up by name in this process's network namespace.</summary>
    /// <exception cref="SystemPortException">"no such interface: NAME".</exception>
    public static LinuxInterface Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var found = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(i => i.Name == name)
            ?? throw new SystemPortException("no such interface: " + name);
        var ipv4 = found.GetIPProperties().GetIPv4Properties();
        return new LinuxInterface(name, ipv4.Index, ipv4.Mtu);
    }

    /// <summary>
    /// True when <paramref name="frame"/> fits the MTU: its payload after the Ethernet header (and
    /// after one 802.1Q or 802.1ad tag, as the kernel counts it) is at most the MTU.
    /// </summary>
    public bool Fits(ReadOnlySpan<byte> frame)
    {
        if (frame.Length <= Mtu + EthernetHeader)
        {
            return true;
        }

        if (frame.Length > MaxFrame || frame.Length < EthernetHeader)
        {
            return false;
        }

        int etherType = (frame[12] << 8) | frame[13];
        return etherType is 0x8100 or 0x88a8;
    }
}
