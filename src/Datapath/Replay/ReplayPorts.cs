using Datapath.Flow;

namespace Datapath.Replay;

/// <summary>
/// The replay contract's port assignment (captures/README.md): a frame came in on port 1 when its
/// source MAC is port 1's host (02:00:00:00:00:01 in the captures, the inside), on port 2 for port
/// 2's host (02:00:00:00:00:02), else on no port (0: the replay skips it).
/// </summary>
public sealed record ReplayPorts(ulong Port1Mac, ulong Port2Mac)
{
    public const ulong InsideMac = 0x02_00_00_00_00_01;
    public const ulong OutsideMac = 0x02_00_00_00_00_02;

    /// <summary>The captures' hosts.</summary>
    public static ReplayPorts Default { get; } = new(InsideMac, OutsideMac);

    public uint PortOf(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 12)
        {
            return 0;
        }

        ulong source = FlowKey.ReadMac(frame[6..12]);
        return source == Port1Mac ? 1u : source == Port2Mac ? 2u : 0u;
    }

    /// <summary>The port of a frame under the captures' MAC plan.</summary>
    public static uint BySourceMac(ReadOnlySpan<byte> frame) => Default.PortOf(frame);
}
