namespace Datapath.Packets;

/// <summary>
/// Conntrack state bits, in Open vSwitch's order (bits 0..7: new est rel rpl inv trk snat dnat).
/// The order is part of the ct-pcap output contract.
/// </summary>
[Flags]
public enum CtState : byte
{
    None = 0,
    New = 1 << 0,
    Established = 1 << 1,
    Related = 1 << 2,
    Reply = 1 << 3,
    Invalid = 1 << 4,
    Tracked = 1 << 5,
    SrcNat = 1 << 6,
    DstNat = 1 << 7,
}
