using Actors.PacketPath;
using System.Globalization;
using Actors.Ports;

namespace Actors.Bridge;

/// <summary>
/// The hardware address OpenFlow reports for a port: a system port's interface address (from
/// /sys/class/net), otherwise a locally administered address made from the port number.
/// </summary>
internal static class PortAddresses
{
    public static ulong Of(PortLink link)
    {
        if (link.Type == "system" && link.Name is { Length: > 0 } name && !name.Contains('/', StringComparison.Ordinal))
        {
            try
            {
                string text = File.ReadAllText(Path.Combine("/sys/class/net", name, "address")).Trim();
                if (Datapath.Flow.FlowKey.TryParseMac(text, out ulong mac))
                {
                    return mac;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The interface is gone or unreadable: the made-up address below will do.
            }
        }

        // 02:xx: locally administered, never a real vendor's.
        return 0x0200_0000_0000UL | ((ulong)link.Port & 0xffff_ffffUL);
    }

    public static string Format(ulong mac) => string.Join(':', Enumerable.Range(0, 6).Select(i => ((mac >> (8 * (5 - i))) & 0xff).ToString("x2", CultureInfo.InvariantCulture)));
}
