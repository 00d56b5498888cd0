using System.Text;
using Datapath.Flow;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// Writes the messages this switch sends, in the connection's version (Open vSwitch's
/// ofputil_encode_* functions): hello, errors, echo, features, config, barrier, statistics
/// replies (split into several messages with OFPSF_REPLY_MORE when they exceed 64 kB), and the
/// asynchronous packet_in, flow_removed and port_status. Every method returns whole messages.
/// </summary>
public static class OfpEncoder
{
    /// <summary>The largest message this switch writes; statistics are split below it.</summary>
    public const int MaxMessage = 65535;

    /// <summary>OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS.</summary>
    private const uint Capabilities = 1 | 2 | 4;

    public static byte[] Hello(byte version, uint versions)
    {
        var w = Begin(version, 0, 0, out int start);
        w.U16(1);
        w.U16(8);
        w.U32(versions);
        return End(w, start);
    }

    /// <summary>OFPT_ERROR carrying the request that failed (whole, as Open vSwitch sends it, so the peer can print it).</summary>
    public static byte[] Error(byte version, uint xid, OfpErrorKind kind, ReadOnlySpan<byte> request)
    {
        var (type, code) = OfpErrors.Encode(kind, version);
        var w = Begin(version, 1, xid, out int start);
        int header = 12;
        if (OfpErrors.IsNiciraVendorError(kind, version))
        {
            // NXET_VENDOR, NXVC_VENDOR_ERROR, then struct nx_vendor_error.
            w.U16(OfpErrors.NiciraVendorErrorType);
            w.U16(0);
            w.U32(Nicira.VendorId);
            header += 8;
        }

        w.U16(type);
        w.U16(code);
        w.Bytes(request[..Math.Min(request.Length, MaxMessage - header)]);
        return End(w, start);
    }

    public static byte[] EchoRequest(byte version, uint xid)
    {
        var w = Begin(version, 2, xid, out int start);
        return End(w, start);
    }

    public static byte[] EchoReply(byte version, uint xid, ReadOnlySpan<byte> payload)
    {
        var w = Begin(version, 3, xid, out int start);
        w.Bytes(payload[..Math.Min(payload.Length, MaxMessage - 8)]);
        return End(w, start);
    }

    public static byte[] BarrierReply(byte version, uint xid)
    {
        var w = Begin(version, version == OfpVersion.Of10 ? (byte)19 : (byte)21, xid, out int start);
        return End(w, start);
    }

    public static byte[] FeaturesReply(byte version, uint xid, ulong datapathId, byte tables, IReadOnlyList<PortInfo> ports)
    {
        var w = Begin(version, 6, xid, out int start);
        w.U64(datapathId);
        w.U32(0);
        w.U8(tables);
        w.Zeros(3);
        w.U32(Capabilities);
        if (version == OfpVersion.Of10)
        {
            // OFPAT10_* supported: output, set_vlan_vid/pcp, strip_vlan, set_dl_src/dst, set_nw_src/dst/tos, set_tp_src/dst.
            w.U32(0x7ff);
            foreach (var port in ports)
            {
                Port10(w, port);
            }
        }
        else
        {
            w.U32(0);
            if (version <= OfpVersion.Of12)
            {
                foreach (var port in ports)
                {
                    Port11(w, port);
                }
            }
        }

        return End(w, start);
    }

    public static byte[] GetConfigReply(byte version, uint xid, ushort flags, ushort missSendLength)
    {
        var w = Begin(version, 8, xid, out int start);
        w.U16(flags);
        w.U16(missSendLength);
        return End(w, start);
    }

    public static byte[] RoleReply(byte version, uint xid, uint role, ulong generation, bool nicira)
    {
        if (nicira)
        {
            var n = Begin(version, 4, xid, out int ns);
            n.U32(Nicira.VendorId);
            n.U32(Nicira.RoleReply);
            n.U32(role - 1);
            return End(n, ns);
        }

        var w = Begin(version, 25, xid, out int start);
        w.U32(role);
        w.Zeros(4);
        w.U64(generation);
        return End(w, start);
    }

    /// <summary>OFPT_GET_ASYNC_REPLY (OpenFlow 1.3 layout).</summary>
    public static byte[] GetAsyncReply(byte version, uint xid, uint[] packetIn, uint[] portStatus, uint[] flowRemoved)
    {
        var w = Begin(version, 27, xid, out int start);
        foreach (uint[] masks in new[] { packetIn, portStatus, flowRemoved })
        {
            w.U32(masks[0]);
            w.U32(masks[1]);
        }

        return End(w, start);
    }

    /// <summary>Switch description: who made it and what it is (ovs-ofctl show prints part of it).</summary>
    public static byte[] DescriptionReply(byte version, uint xid, string software)
    {
        var w = BeginStats(version, xid, StatsKind.Description, more: false, out int start);
        FixedString(w, "ovs-actors", 256);
        FixedString(w, "userspace datapath on Akka.NET actors", 256);
        FixedString(w, software, 256);
        FixedString(w, "None", 32);
        FixedString(w, "None", 256);
        return End(w, start);
    }

    /// <summary>Flow statistics: OFPST_FLOW (OpenFlow 1.0 match or OXM) or NXST_FLOW (NXM), split as needed.</summary>
    public static List<byte[]> FlowStatsReply(byte version, uint xid, bool nicira, IReadOnlyList<FlowStatsEntry> flows)
    {
        var messages = new List<byte[]>();
        OfpWriter? w = null;
        int start = 0;
        foreach (var flow in flows)
        {
            var entry = new OfpWriter(256);
            FlowStats(entry, version, nicira, flow);
            if (w is not null && w.Length + entry.Length > MaxMessage)
            {
                // OFPSF_REPLY_MORE in the statistics header's flags (offset 10 in every version).
                w.Patch16(start + 10, 1);
                messages.Add(End(w, start));
                w = null;
            }

            w ??= nicira ? BeginNxStats(version, xid, Nicira.StatsFlow, out start) : BeginStats(version, xid, StatsKind.Flow, more: false, out start);
            w.Bytes(entry.Written);
        }

        w ??= nicira ? BeginNxStats(version, xid, Nicira.StatsFlow, out start) : BeginStats(version, xid, StatsKind.Flow, more: false, out start);
        messages.Add(End(w, start));
        return messages;
    }

    public static byte[] AggregateReply(byte version, uint xid, bool nicira, long packets, long bytes, int flows)
    {
        var w = nicira ? BeginNxStats(version, xid, Nicira.StatsAggregate, out int start) : BeginStats(version, xid, StatsKind.Aggregate, more: false, out start);
        if (version >= OfpVersion.Of15 && !nicira)
        {
            Oxs(w, null, null, flows, packets, bytes);
            return End(w, start);
        }

        w.U64((ulong)packets);
        w.U64((ulong)bytes);
        w.U32((uint)flows);
        w.Zeros(4);
        return End(w, start);
    }

    public static byte[] TableStatsReply(byte version, uint xid, IReadOnlyList<TableCounters> tables)
    {
        var w = BeginStats(version, xid, StatsKind.Table, more: false, out int start);
        foreach (var t in tables)
        {
            w.U8(t.Table);
            w.Zeros(3);
            if (version == OfpVersion.Of10)
            {
                // No table names: ovs-ofctl would print them instead of the numbers.
                FixedString(w, string.Empty, 32);
                w.U32(0x3fffff);
                w.U32(1_000_000);
            }

            w.U32((uint)t.ActiveCount);
            w.U64((ulong)t.Lookups);
            w.U64((ulong)t.Matched);
        }

        return End(w, start);
    }

    /// <summary>
    /// OFPMP_TABLE_FEATURES (OpenFlow 1.3+): one entry per table, without names (ovs-ofctl would print
    /// them instead of numbers), with the eight properties OpenFlow requires (instructions, next
    /// tables, write/apply actions, match, wildcards, write/apply set-field), split as needed.
    /// ovs-ofctl asks for it before most commands to learn table names.
    /// </summary>
    public static List<byte[]> TableFeaturesReply(byte version, uint xid, int tables)
    {
        var properties = new OfpWriter(512);
        Property(properties, 0, w =>
        {
            foreach (ushort instruction in new ushort[] { 1, 2, 4 })
            {
                w.U16(instruction);
                w.U16(4);
            }
        });
        Property(properties, 2, _ => { });
        Property(properties, 4, _ => { });
        Property(properties, 6, w =>
        {
            foreach (ushort action in new ushort[] { 0, 17, 18, 23, 24, 25 })
            {
                w.U16(action);
                w.U16(4);
            }
        });
        var fields = new[]
        {
            OxmFields.OxmInPort, OxmFields.OxmMetadata, OxmFields.OxmEthSrc, OxmFields.OxmEthDst, OxmFields.OxmEthType,
            OxmFields.OxmVlanVid, OxmFields.OxmVlanPcp, OxmFields.OxmIpDscp, OxmFields.OxmIpEcn, OxmFields.OxmIpProto,
            OxmFields.OxmIpv4Src, OxmFields.OxmIpv4Dst, OxmFields.OxmTcpSrc, OxmFields.OxmTcpDst, OxmFields.OxmUdpSrc,
            OxmFields.OxmUdpDst, OxmFields.OxmSctpSrc, OxmFields.OxmSctpDst, OxmFields.OxmIcmpv4Type, OxmFields.OxmIcmpv4Code,
            OxmFields.OxmArpOp, OxmFields.OxmArpSpa, OxmFields.OxmArpTpa, OxmFields.OxmArpSha, OxmFields.OxmArpTha,
            OxmFields.OxmIpv6Src, OxmFields.OxmIpv6Dst, OxmFields.OxmIpv6Flabel, OxmFields.OxmIcmpv6Type, OxmFields.OxmIcmpv6Code,
            OxmFields.OxmNdTarget, OxmFields.OxmNdSll, OxmFields.OxmNdTll, OxmFields.NxmCtState, OxmFields.NxmCtZone,
            OxmFields.NxmCtMark, OxmFields.NxmCtLabel, OxmFields.NxmIpTtl, OxmFields.NxmIpFrag, OxmFields.NxmTcpFlags,
        };
        foreach (ushort type in new ushort[] { 8, 10 })
        {
            Property(properties, type, w =>
            {
                foreach (var f in fields)
                {
                    w.U32(f.Header(false));
                }
            });
        }

        foreach (ushort type in new ushort[] { 12, 14 })
        {
            Property(properties, type, w =>
            {
                foreach (var f in fields)
                {
                    if (f.Field is { Writable: true })
                    {
                        w.U32(f.Header(false));
                    }
                }
            });
        }

        int entrySize = 64 + properties.Length;
        var messages = new List<byte[]>();
        int perMessage = (MaxMessage - 16) / entrySize;
        for (int first = 0; first < tables; first += perMessage)
        {
            int last = Math.Min(tables, first + perMessage);
            var w = BeginStats(version, xid, StatsKind.TableFeatures, more: last < tables, out int start);
            for (int t = first; t < last; t++)
            {
                w.U16((ushort)entrySize);
                w.U8((byte)t);
                w.Zeros(5);
                FixedString(w, string.Empty, 32);
                w.U64(ulong.MaxValue);
                w.U64(ulong.MaxValue);
                w.U32(0);
                w.U32(1_000_000);
                w.Bytes(properties.Written);
            }

            messages.Add(End(w, start));
        }

        return messages;
    }

    /// <summary>One table-features property: type, length (without padding), content, padding to 8.</summary>
    private static void Property(OfpWriter w, ushort type, Action<OfpWriter> content)
    {
        int start = w.Mark();
        w.U16(type);
        w.U16(0);
        content(w);
        w.PatchLength16(start + 2, start);
        w.PadTo8(start);
    }

    public static byte[] PortStatsReply(byte version, uint xid, IReadOnlyList<PortStatsEntry> ports)
    {
        var w = BeginStats(version, xid, StatsKind.Port, more: false, out int start);
        foreach (var p in ports)
        {
            if (version >= OfpVersion.Of14)
            {
                int entry = w.Mark();
                w.U16(0);
                w.Zeros(2);
                w.U32(p.Number);
                Duration(w, p.Duration);
                Counters(w, p, errors: true);
                w.U16(0);
                w.U16(40);
                w.Zeros(4);
                w.Zeros(32);
                w.PatchLength16(entry, entry);
                continue;
            }

            if (version == OfpVersion.Of10)
            {
                w.U16(OfpPort.To10(p.Number));
                w.Zeros(6);
            }
            else
            {
                w.U32(p.Number);
                w.Zeros(4);
            }

            Counters(w, p, errors: true);
            w.Zeros(32);
            if (version >= OfpVersion.Of13)
            {
                Duration(w, p.Duration);
            }
        }

        return End(w, start);
    }

    public static byte[] PortDescriptionReply(byte version, uint xid, IReadOnlyList<PortInfo> ports)
    {
        var w = BeginStats(version, xid, StatsKind.PortDescription, more: false, out int start);
        foreach (var port in ports)
        {
            Port(w, version, port);
        }

        return End(w, start);
    }

    public static byte[] PortStatus(byte version, PortStatusReason reason, PortInfo port)
    {
        var w = Begin(version, 12, 0, out int start);
        w.U8((byte)reason);
        w.Zeros(7);
        Port(w, version, port);
        return End(w, start);
    }

    /// <summary>OFPT_PACKET_IN in the version's layout, or NXT_PACKET_IN when <paramref name="nicira"/>.</summary>
    public static byte[] PacketIn(byte version, PacketInMessage p, bool nicira)
    {
        byte reason = version < OfpVersion.Of14 && p.Reason > PacketInReason.InvalidTtl ? (byte)PacketInReason.Action : (byte)p.Reason;
        if (nicira)
        {
            var n = Begin(version, 4, 0, out int ns);
            n.U32(Nicira.VendorId);
            n.U32(Nicira.PacketIn);
            n.U32(uint.MaxValue);
            n.U16((ushort)p.TotalLength);
            n.U8(reason);
            n.U8(p.Table);
            n.U64(p.Cookie);
            int lengthAt = n.Mark();
            n.U16(0);
            n.Zeros(6);
            int matchStart = n.Mark();
            OxmCodec.Encode(n, p.Metadata, oxm: false);
            n.Patch16(lengthAt, (ushort)(n.Length - matchStart));
            n.PadTo8(matchStart);
            n.Zeros(2);
            n.Bytes(p.Frame);
            return End(n, ns);
        }

        var w = Begin(version, 10, 0, out int start);
        w.U32(uint.MaxValue);
        if (version == OfpVersion.Of10)
        {
            w.U16((ushort)p.TotalLength);
            w.U16(OfpPort.To10(p.Metadata.Value.Key.InPort));
            w.U8(reason);
            w.U8(0);
        }
        else if (version == OfpVersion.Of11)
        {
            w.U32(p.Metadata.Value.Key.InPort);
            w.U32(p.Metadata.Value.Key.InPort);
            w.U16((ushort)p.TotalLength);
            w.U8(reason);
            w.U8(p.Table);
        }
        else
        {
            w.U16((ushort)p.TotalLength);
            w.U8(reason);
            w.U8(p.Table);
            if (version >= OfpVersion.Of13)
            {
                w.U64(p.Cookie);
            }

            Match11(w, p.Metadata);
            w.Zeros(2);
        }

        w.Bytes(p.Frame);
        return End(w, start);
    }

    /// <summary>OFPT_FLOW_REMOVED in the version's layout, or NXT_FLOW_REMOVED when <paramref name="nicira"/>.</summary>
    public static byte[] FlowRemoved(byte version, FlowRemovedMessage f, bool nicira)
    {
        var e = f.Entry;
        if (nicira)
        {
            var n = Begin(version, 4, 0, out int ns);
            n.U32(Nicira.VendorId);
            n.U32(Nicira.FlowRemoved);
            n.U64(e.Cookie);
            n.U16(e.Priority);
            n.U8((byte)f.Reason);
            n.U8(e.Table);
            Duration(n, f.Duration);
            n.U16(e.IdleTimeout);
            int lengthAt = n.Mark();
            n.U16(0);
            n.U64((ulong)f.Packets);
            n.U64((ulong)f.Bytes);
            int matchStart = n.Mark();
            OxmCodec.Encode(n, e.Match, oxm: false);
            n.Patch16(lengthAt, (ushort)(n.Length - matchStart));
            n.PadTo8(matchStart);
            return End(n, ns);
        }

        var w = Begin(version, 11, 0, out int start);
        if (version == OfpVersion.Of10)
        {
            Of10Match.Encode(w, e.Match);
            w.U64(e.Cookie);
            w.U16(e.Priority);
            w.U8((byte)f.Reason);
            w.U8(0);
            Duration(w, f.Duration);
            w.U16(e.IdleTimeout);
            w.Zeros(2);
            w.U64((ulong)f.Packets);
            w.U64((ulong)f.Bytes);
            return End(w, start);
        }

        if (version >= OfpVersion.Of15)
        {
            w.U8(e.Table);
            w.U8((byte)f.Reason);
            w.U16(e.Priority);
            w.U16(e.IdleTimeout);
            w.U16(e.HardTimeout);
            w.U64(e.Cookie);
            Match11(w, e.Match);
            Oxs(w, f.Duration, null, null, f.Packets, f.Bytes);
            return End(w, start);
        }

        w.U64(e.Cookie);
        w.U16(e.Priority);
        w.U8((byte)f.Reason);
        w.U8(e.Table);
        Duration(w, f.Duration);
        w.U16(e.IdleTimeout);
        w.U16(e.HardTimeout);
        w.U64((ulong)f.Packets);
        w.U64((ulong)f.Bytes);
        Match11(w, e.Match);
        return End(w, start);
    }

    private static void FlowStats(OfpWriter w, byte version, bool nicira, FlowStatsEntry f)
    {
        var e = f.Entry;
        int start = w.Mark();
        if (version >= OfpVersion.Of15 && !nicira)
        {
            // OpenFlow 1.5: the statistics move into OXS fields after the match.
            w.U16(0);
            w.Zeros(2);
            w.U8(e.Table);
            w.U8(0);
            w.U16(e.Priority);
            w.U16(e.IdleTimeout);
            w.U16(e.HardTimeout);
            w.U16((ushort)e.Flags);
            w.U16(0);
            w.U64(e.Cookie);
            Match11(w, e.Match);
            Oxs(w, f.Duration, f.IdleAge, null, f.Packets, f.Bytes);
            ActionEncoder.EncodeRule(w, e.Actions, version, e.Match);
            w.PatchLength16(start, start);
            return;
        }

        w.U16(0);
        w.U8(e.Table);
        w.U8(0);
        if (version == OfpVersion.Of10 && !nicira)
        {
            Of10Match.Encode(w, e.Match);
        }

        Duration(w, f.Duration);
        w.U16(e.Priority);
        w.U16(e.IdleTimeout);
        w.U16(e.HardTimeout);
        int matchLengthAt = 0;
        if (nicira)
        {
            matchLengthAt = w.Mark();
            w.U16(0);
            w.U16(Age(f.IdleAge));
            w.U16(Age(f.HardAge));
        }
        else if (version >= OfpVersion.Of13)
        {
            w.U16((ushort)e.Flags);
            w.Zeros(4);
        }
        else
        {
            w.Zeros(6);
        }

        w.U64(e.Cookie);
        w.U64((ulong)f.Packets);
        w.U64((ulong)f.Bytes);
        if (nicira)
        {
            int matchStart = w.Mark();
            OxmCodec.Encode(w, e.Match, oxm: false);
            w.Patch16(matchLengthAt, (ushort)(w.Length - matchStart));
            w.PadTo8(matchStart);
            ActionEncoder.EncodeList(w, e.Actions, OfpVersion.Of10, e.Match);
        }
        else if (version == OfpVersion.Of10)
        {
            ActionEncoder.EncodeList(w, e.Actions, version, e.Match);
        }
        else
        {
            Match11(w, e.Match);
            ActionEncoder.EncodeRule(w, e.Actions, version, e.Match);
        }

        w.PatchLength16(start, start);
    }

    /// <summary>
    /// OpenFlow 1.5's ofp_stats: OXS fields (class 0x8002) duration, idle_time, flow_count,
    /// packet_count and byte_count (those given), padded to 8 bytes.
    /// </summary>
    private static void Oxs(OfpWriter w, TimeSpan? duration, TimeSpan? idle, int? flows, long? packets, long? bytes)
    {
        int start = w.Mark();
        w.U16(0);
        w.U16(0);
        if (duration is { } d)
        {
            w.U32(0x8002_0008);
            Duration(w, d);
        }

        if (idle is { } i)
        {
            w.U32(0x8002_0208);
            Duration(w, i);
        }

        if (flows is { } n)
        {
            w.U32(0x8002_0604);
            w.U32((uint)n);
        }

        if (packets is { } p)
        {
            w.U32(0x8002_0808);
            w.U64((ulong)p);
        }

        if (bytes is { } b)
        {
            w.U32(0x8002_0a08);
            w.U64((ulong)b);
        }

        w.PatchLength16(start + 2, start);
        w.PadTo8(start);
    }

    /// <summary>NXST_FLOW's idle_age and hard_age: seconds plus one, 0 unknown, saturating at 65535.</summary>
    private static ushort Age(TimeSpan age) => (ushort)Math.Clamp((long)age.TotalSeconds + 1, 1, 65535);

    /// <summary>An OpenFlow 1.1+ ofp_match: type OXM, length, fields, padding to 8.</summary>
    public static void Match11(OfpWriter w, OfMatch match)
    {
        ArgumentNullException.ThrowIfNull(w);
        int start = w.Mark();
        w.U16(1);
        w.U16(0);
        OxmCodec.Encode(w, match, oxm: true);
        w.PatchLength16(start + 2, start);
        w.PadTo8(start);
    }

    private static void Port(OfpWriter w, byte version, PortInfo port)
    {
        if (version == OfpVersion.Of10)
        {
            Port10(w, port);
        }
        else if (version <= OfpVersion.Of13)
        {
            Port11(w, port);
        }
        else
        {
            w.U32(port.Number);
            w.U16(72);
            w.Zeros(2);
            Mac(w, port.HardwareAddress);
            w.Zeros(2);
            FixedString(w, port.Name, 16);
            w.U32(0);
            w.U32(port.LinkUp ? 4u : 1u);
            w.U16(0);
            w.U16(32);
            w.Zeros(4);
            w.U32(0x840);
            w.U32(0);
            w.U32(0);
            w.U32(0);
            w.U32(10_000_000);
            w.U32(0);
        }
    }

    private static void Port10(OfpWriter w, PortInfo port)
    {
        w.U16(OfpPort.To10(port.Number));
        Mac(w, port.HardwareAddress);
        FixedString(w, port.Name, 16);
        w.U32(0);
        w.U32(port.LinkUp ? 0u : 1u);

        // OFPPF10_10GB_FD | OFPPF10_COPPER (OpenFlow 1.1 moved COPPER to bit 11).
        w.U32(0xc0);
        w.U32(0);
        w.U32(0);
        w.U32(0);
    }

    private static void Port11(OfpWriter w, PortInfo port)
    {
        w.U32(port.Number);
        w.Zeros(4);
        Mac(w, port.HardwareAddress);
        w.Zeros(2);
        FixedString(w, port.Name, 16);
        w.U32(0);
        w.U32(port.LinkUp ? 4u : 1u);
        w.U32(0x840);
        w.U32(0);
        w.U32(0);
        w.U32(0);
        w.U32(10_000_000);
        w.U32(0);
    }

    private static void Counters(OfpWriter w, PortStatsEntry p, bool errors)
    {
        w.U64((ulong)p.RxPackets);
        w.U64((ulong)p.TxPackets);
        w.U64((ulong)p.RxBytes);
        w.U64((ulong)p.TxBytes);
        w.U64((ulong)p.RxDropped);
        w.U64((ulong)p.TxDropped);
        if (errors)
        {
            w.U64((ulong)p.RxErrors);
            w.U64((ulong)p.TxErrors);
        }
    }

    private static void Duration(OfpWriter w, TimeSpan duration)
    {
        long ns = Math.Max(0, duration.Ticks) * 100;
        w.U32((uint)Math.Min(uint.MaxValue, ns / 1_000_000_000));
        w.U32((uint)(ns % 1_000_000_000));
    }

    private static void Mac(OfpWriter w, ulong mac)
    {
        Span<byte> bytes = stackalloc byte[6];
        FlowKey.WriteMac(bytes, mac);
        w.Bytes(bytes);
    }

    private static void FixedString(OfpWriter w, string text, int size)
    {
        Span<byte> bytes = stackalloc byte[size];
        bytes.Clear();
        Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, size - 1)), bytes);
        w.Bytes(bytes);
    }

    private static OfpWriter Begin(byte version, byte type, uint xid, out int start)
    {
        var w = new OfpWriter();
        start = w.Mark();
        w.U8(version);
        w.U8(type);
        w.U16(0);
        w.U32(xid);
        return w;
    }

    private static OfpWriter BeginStats(byte version, uint xid, StatsKind kind, bool more, out int start)
    {
        var w = Begin(version, version == OfpVersion.Of10 ? (byte)17 : (byte)19, xid, out start);
        w.U16((ushort)kind);
        w.U16(more ? (ushort)1 : (ushort)0);
        if (version != OfpVersion.Of10)
        {
            w.Zeros(4);
        }

        return w;
    }

    private static OfpWriter BeginNxStats(byte version, uint xid, uint subtype, out int start)
    {
        var w = Begin(version, version == OfpVersion.Of10 ? (byte)17 : (byte)19, xid, out start);
        w.U16(0xffff);
        w.U16(0);
        if (version == OfpVersion.Of10)
        {
            w.U32(Nicira.VendorId);
            w.U32(subtype);
            w.Zeros(4);
        }
        else
        {
            w.Zeros(4);
            w.U32(Nicira.VendorId);
            w.U32(subtype);
        }

        return w;
    }

    private static byte[] End(OfpWriter w, int start)
    {
        w.PatchLength16(start + 2, start);
        return w.ToArray();
    }
}
