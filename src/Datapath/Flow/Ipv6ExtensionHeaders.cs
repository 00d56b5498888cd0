using System.Buffers.Binary;

namespace Datapath.Flow;

/// <summary>
/// The IPv6 extension-header walk (Open vSwitch's parse_ipv6_ext_hdrs), shared by flow extraction
/// and conntrack's parser so both read a chain the same way.
/// </summary>
internal static class Ipv6ExtensionHeaders
{
    private const ushort Ipv6FragOffsetMask = 0xFFF8;
    private const byte AuthenticationHeader = 51;

    /// <summary>
    /// Walks hop-by-hop, routing, destination options, AH and fragment headers (OVS
    /// parse_ipv6_ext_hdrs). Each needs its first 8 bytes and its whole declared length. A fragment
    /// header with a non-zero offset ends the walk with proto 44; one with any bit set marks a fragment.
    /// </summary>
    /// <returns>False when a header runs past <paramref name="payload"/>.</returns>
    public static bool Skip(ReadOnlySpan<byte> payload, ref byte proto, out int length, out byte frag)
    {
        length = 0;
        frag = 0;
        while (true)
        {
            int headerLength;
            switch (proto)
            {
                case IpProtocols.HopByHop:
                case IpProtocols.Routing:
                case IpProtocols.DestinationOptions:
                    if (payload.Length - length < 8)
                    {
                        return false;
                    }

                    headerLength = (payload[length + 1] + 1) * 8;
                    break;
                case AuthenticationHeader:
                    if (payload.Length - length < 8)
                    {
                        return false;
                    }

                    headerLength = (payload[length + 1] + 2) * 4;
                    break;
                case IpProtocols.Fragment:
                    if (payload.Length - length < 8)
                    {
                        return false;
                    }

                    headerLength = 8;
                    ushort offsetFlags = BinaryPrimitives.ReadUInt16BigEndian(payload[(length + 2)..]);
                    if (offsetFlags != 0)
                    {
                        frag = FlowKey.FragAny;
                        if ((offsetFlags & Ipv6FragOffsetMask) != 0)
                        {
                            // Later fragments carry no L4 header: proto stays "fragment", as in OVS.
                            frag |= FlowKey.FragLater;
                            length += headerLength;
                            return true;
                        }
                    }

                    break;
                default:
                    return true;
            }

            if (payload.Length - length < headerLength)
            {
                return false;
            }

            proto = payload[length];
            length += headerLength;
        }
    }
}
