using System.Buffers.Binary;
using Datapath.Flow;

namespace Datapath.Conntrack;

/// <summary>
/// Skips IPv6 extension headers (hop-by-hop, routing, destination options, AH, fragment) the way
/// OVS's parse_ipv6_ext_hdrs does; a fragment header with a non-zero offset or the M flag makes the
/// datagram a fragment, which conntrack refuses (reassemble first). An atomic fragment header
/// (offset 0, M clear) is skipped.
/// </summary>
internal static class Ipv6Extensions
{
    private const byte AuthenticationHeader = 51;

    /// <returns>None, or the reason the chain cannot be used.</returns>
    public static ConntrackCounter Walk(ReadOnlySpan<byte> payload, ref byte proto, out int length)
    {
        length = 0;
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
                        return ConntrackCounter.TruncatedL3;
                    }

                    headerLength = (payload[length + 1] + 1) * 8;
                    break;
                case AuthenticationHeader:
                    if (payload.Length - length < 8)
                    {
                        return ConntrackCounter.TruncatedL3;
                    }

                    headerLength = (payload[length + 1] + 2) * 4;
                    break;
                case IpProtocols.Fragment:
                    if (payload.Length - length < 8)
                    {
                        return ConntrackCounter.TruncatedL3;
                    }

                    headerLength = 8;
                    if (BinaryPrimitives.ReadUInt16BigEndian(payload[(length + 2)..]) != 0)
                    {
                        return ConntrackCounter.Fragment;
                    }

                    break;
                default:
                    return ConntrackCounter.None;
            }

            if (payload.Length - length < headerLength)
            {
                return ConntrackCounter.TruncatedL3;
            }

            proto = payload[length];
            length += headerLength;
        }
    }
}
