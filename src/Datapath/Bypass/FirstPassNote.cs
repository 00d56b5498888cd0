using System.Runtime.CompilerServices;
using Datapath.Caches;
using Datapath.Packets;

namespace Datapath.Bypass;

/// <summary>
/// What a first pass leaves on a packet for its recirculated pass (<see cref="Packet.PassNote"/>):
/// the megaflow it hit, when that ends in ct, recirc, so the recirculated pass can build a bypass
/// flow from both. Written on every first pass, so a recycled packet never brings a stale one.
/// </summary>
internal static class FirstPassNote
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(Packet packet, Megaflow flow) =>
        packet.PassNote = BypassFlowBuilder.EndsInConntrackRecirculation(flow) ? flow : null;

    /// <summary>The first pass's megaflow of a recirculated packet, or null; the note is cleared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Megaflow? Take(Packet packet)
    {
        if (packet.PassNote is not Megaflow original)
        {
            return null;
        }

        packet.PassNote = null;
        return original;
    }
}
