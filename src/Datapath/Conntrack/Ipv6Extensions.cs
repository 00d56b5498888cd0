using Datapath.Flow;

namespace Datapath.Conntrack;

/// <summary>
/// Conntrack's view of an IPv6 extension chain (the walk is flow extraction's, OVS's
/// parse_ipv6_ext_hdrs): a fragment header with a non-zero offset or the M flag makes the datagram
/// a fragment, which conntrack refuses (reassemble first); an atomic fragment header (offset 0,
/// M clear) is skipped.
/// </summary>
internal static class Ipv6Extensions
{
    /// <returns>None, or the reason the chain cannot be used.</returns>
    public static ConntrackCounter Walk(ReadOnlySpan<byte> payload, ref byte proto, out int length)
    {
        if (!Ipv6ExtensionHeaders.Skip(payload, ref proto, out length, out byte frag))
        {
            return ConntrackCounter.TruncatedL3;
        }

        return frag != 0 ? ConntrackCounter.Fragment : ConntrackCounter.None;
    }
}
