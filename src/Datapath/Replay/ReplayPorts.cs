using Datapath.Flow;

namespace Datapath.Replay;

/// <summary>
/// The replay contract's port assignment (captures/README.md): a frame came in on port 1 when its
/// source MAC is 02:00:00:00:00:01 (the inside host), on port 2 for 02:00:00:00:00:02, else port 0.
/// </summary>
public static class ReplayPorts
{
    public const ulong InsideMac = 0x02_00_00_00_00_01;
    public const ulong OutsideMac = 0x02_00_00_00_00_02;

    public static uint BySourceMac(ReadOnlySpan<byte> frame) =>
        frame.Length < 12 ? 0u : FlowKey.ReadMac(frame[6..12]) switch
        {
            InsideMac => 1u,
            OutsideMac => 2u,
            _ => 0u,
        };
}
