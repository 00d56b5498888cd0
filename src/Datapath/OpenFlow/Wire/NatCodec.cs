using System.Buffers.Binary;
using Datapath.Actions;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// NXAST_NAT, the nat(...) nested in NXAST_CT: flags (NX_NAT_F_SRC, _DST, _PERSISTENT,
/// _PROTO_HASH, _PROTO_RANDOM) and range_present bits saying which of the IPv4 min/max, IPv6
/// min/max and port min/max follow, in that order. A single address or port goes as its min alone,
/// as Open vSwitch sends it.
/// </summary>
public static class NatCodec
{
    public const ushort Subtype = 36;

    private const ushort FlagSource = 1;
    private const ushort FlagDestination = 2;
    private const ushort FlagPersistent = 4;
    private const ushort FlagHash = 8;
    private const ushort FlagRandom = 16;

    private const ushort Ipv4Min = 1;
    private const ushort Ipv4Max = 2;
    private const ushort Ipv6Min = 4;
    private const ushort Ipv6Max = 8;
    private const ushort PortMin = 16;
    private const ushort PortMax = 32;

    /// <summary>Reads the body after the subtype (the reader holds exactly the action).</summary>
    /// <exception cref="OfpException">Unknown bits, a max without its min, both families, or a range without src/dst.</exception>
    public static NatArgs Decode(ref OfpReader a)
    {
        a.Skip(2);
        ushort flags = a.U16();
        ushort present = a.U16();
        if ((flags & ~(FlagSource | FlagDestination | FlagPersistent | FlagHash | FlagRandom)) != 0 || (present & ~0x3f) != 0)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, $"nat: unknown flags 0x{flags:x} or range bits 0x{present:x}");
        }

        bool source = (flags & FlagSource) != 0;
        bool destination = (flags & FlagDestination) != 0;
        if (source && destination)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "nat: only one of src and dst");
        }

        if ((flags & (FlagHash | FlagRandom)) == (FlagHash | FlagRandom))
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "nat: both hash and random");
        }

        bool v4 = (present & (Ipv4Min | Ipv4Max)) != 0;
        bool v6 = (present & (Ipv6Min | Ipv6Max)) != 0;
        if ((v4 && v6) || Lacks(present, Ipv4Max, Ipv4Min) || Lacks(present, Ipv6Max, Ipv6Min) || Lacks(present, PortMax, PortMin) || ((present & PortMin) != 0 && !v4 && !v6))
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, $"nat: inconsistent range bits 0x{present:x}");
        }

        if (!source && !destination && (flags != 0 || present != 0))
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "nat: flags or a range need src or dst");
        }

        var nat = NatArgs.Existing with
        {
            Kind = source ? NatKind.Source : destination ? NatKind.Destination : NatKind.Existing,
            Flags = ((flags & FlagPersistent) != 0 ? NatFlags.Persistent : NatFlags.None)
                | ((flags & FlagHash) != 0 ? NatFlags.Hash : NatFlags.None)
                | ((flags & FlagRandom) != 0 ? NatFlags.Random : NatFlags.None),
        };
        if (!v4 && !v6)
        {
            return nat;
        }

        UInt128 min = v4 ? a.U32() : BinaryPrimitives.ReadUInt128BigEndian(a.Bytes(16));
        UInt128 max = (present & (Ipv4Max | Ipv6Max)) != 0 ? (v4 ? a.U32() : BinaryPrimitives.ReadUInt128BigEndian(a.Bytes(16))) : min;
        ushort minPort = (present & PortMin) != 0 ? a.U16() : (ushort)0;
        ushort maxPort = (present & PortMax) != 0 ? a.U16() : minPort;
        if (max < min || maxPort < minPort || ((present & PortMin) != 0 && minPort == 0))
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "nat: a range that ends before it starts");
        }

        return nat with { HasAddress = true, IsIpv6 = v6, MinAddress = min, MaxAddress = max, MinPort = minPort, MaxPort = maxPort };
    }

    /// <summary>The whole action, header included, padded to 8 bytes.</summary>
    public static void Encode(OfpWriter w, NatArgs nat)
    {
        int start = ActionEncoder.NxHeader(w, Subtype);
        w.Zeros(2);
        w.U16((ushort)((nat.Kind == NatKind.Source ? FlagSource : 0) | (nat.Kind == NatKind.Destination ? FlagDestination : 0)
            | ((nat.Flags & NatFlags.Persistent) != 0 ? FlagPersistent : 0) | ((nat.Flags & NatFlags.Hash) != 0 ? FlagHash : 0)
            | ((nat.Flags & NatFlags.Random) != 0 ? FlagRandom : 0)));
        int presentAt = w.Mark();
        w.U16(0);
        ushort present = 0;
        if (nat.HasAddress)
        {
            bool range = nat.MaxAddress != nat.MinAddress;
            if (nat.IsIpv6)
            {
                Span<byte> address = stackalloc byte[16];
                BinaryPrimitives.WriteUInt128BigEndian(address, nat.MinAddress);
                w.Bytes(address);
                present |= Ipv6Min;
                if (range)
                {
                    BinaryPrimitives.WriteUInt128BigEndian(address, nat.MaxAddress);
                    w.Bytes(address);
                    present |= Ipv6Max;
                }
            }
            else
            {
                w.U32((uint)nat.MinAddress);
                present |= Ipv4Min;
                if (range)
                {
                    w.U32((uint)nat.MaxAddress);
                    present |= Ipv4Max;
                }
            }

            if (nat.HasPorts)
            {
                w.U16(nat.MinPort);
                present |= PortMin;
                if (nat.MaxPort != nat.MinPort)
                {
                    w.U16(nat.MaxPort);
                    present |= PortMax;
                }
            }
        }

        w.Patch16(presentAt, present);
        w.PadTo8(start);
        w.PatchLength16(start + 2, start);
    }

    private static bool Lacks(ushort present, ushort max, ushort min) => (present & max) != 0 && (present & min) == 0;
}
