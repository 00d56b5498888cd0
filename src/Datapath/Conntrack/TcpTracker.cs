using System.Runtime.CompilerServices;

namespace Datapath.Conntrack;

/// <summary>
/// TCP with pf-style sequence-window tracking (the analogue of lib/conntrack-tcp.c, itself from
/// OpenBSD pf after Guido van Rooij's "Real Stateful TCP Packet Filtering in IP Filter"): each
/// peer keeps the highest sequence sent (seqlo), the highest the other side allows (seqhi), its
/// largest window and its window scale; a segment must fall inside the window, its ack may not
/// skew too far, and a RST must carry an exact (or off by one) sequence number. Invalid flag
/// combinations are refused; a bare SYN on a tuple whose both sides reached FIN_WAIT_2 or later
/// starts a new connection in its place.
/// </summary>
internal readonly struct TcpTracker : IProtocolTracker
{
    private const ushort Fin = 0x01;
    private const ushort Syn = 0x02;
    private const ushort Rst = 0x04;
    private const ushort Psh = 0x08;
    private const ushort Ack = 0x10;
    private const ushort Urg = 0x20;

    private const byte WScaleFlag = 0x80;
    private const byte WScaleUnknown = 0x40;
    private const byte WScaleMask = 0x0F;
    private const int MaxWScale = 14;

    // pf's MAXACKWINDOW: one full unscaled window plus an arbitrary 1500-byte fudge factor.
    private const int MaxAckWindow = 0xFFFF + 1500;

    /// <summary>OVS tcp_invalid_flags (pf_normalize_tcp): combinations no correct stack sends.</summary>
    public static bool InvalidFlags(ushort flags)
    {
        if ((flags & Syn) != 0)
        {
            if ((flags & (Rst | Fin)) != 0)
            {
                return true;
            }
        }
        else if ((flags & (Ack | Rst)) == 0)
        {
            return true;
        }

        // FIN, PSH and URG are only valid with ACK.
        return (flags & Ack) == 0 && (flags & (Fin | Psh | Urg)) != 0;
    }

    /// <summary>A bare SYN or an ACK-bearing segment (pick-up of an established stream); never SYN|ACK.</summary>
    public static bool ValidNew(in ConntrackInput input)
    {
        ushort flags = input.TcpFlags;
        return !InvalidFlags(flags) && (flags & (Syn | Ack)) != (Syn | Ack);
    }

    public static TimeoutClass Create(ref ConnectionEntry entry, in ConntrackInput input)
    {
        ref var src = ref entry.Orig;
        ref var dst = ref entry.Reply;
        ushort flags = input.TcpFlags;

        src = default;
        dst = default;
        src.SeqLo = input.TcpSeq;
        src.SeqHi = src.SeqLo + input.PayloadLength + 1;
        if ((flags & Syn) != 0)
        {
            src.SeqHi++;
            src.WScale = input.TcpWindowScale;
        }
        else
        {
            // Picked up mid-stream: the scales were negotiated where we could not see them.
            src.WScale = WScaleUnknown;
            dst.WScale = WScaleUnknown;
        }

        src.MaxWin = Math.Max(input.TcpWindow, (ushort)1);
        if ((src.WScale & WScaleMask) != 0)
        {
            src.MaxWin = (ushort)DivRoundUp(src.MaxWin, 1u << (src.WScale & WScaleMask));
        }

        if ((flags & Fin) != 0)
        {
            src.SeqHi++;
        }

        dst.SeqHi = 1;
        dst.MaxWin = 1;
        src.State = TcpState.SynSent;
        dst.State = TcpState.Closed;
        return TimeoutClass.TcpFirstPacket;
    }

    public static UpdateResult Update(ref ConnectionEntry entry, in ConntrackInput input, bool reply, out TimeoutClass refresh, out bool renew) =>
        Update(ref entry, in input, reply, checkSequence: true, out refresh, out renew);

    /// <summary>
    /// As <see cref="Update(ref ConnectionEntry, in ConntrackInput, bool, out TimeoutClass, out bool)"/>;
    /// with <paramref name="checkSequence"/> off every segment with valid flags is taken as in the
    /// window (OVS tcp_bypass_seq_chk, dpctl/ct-disable-tcp-seq-chk).
    /// </summary>
    public static UpdateResult Update(ref ConnectionEntry entry, in ConntrackInput input, bool reply, bool checkSequence, out TimeoutClass refresh, out bool renew)
    {
        ref var src = ref reply ? ref entry.Reply : ref entry.Orig;
        ref var dst = ref reply ? ref entry.Orig : ref entry.Reply;
        ushort flags = input.TcpFlags;
        refresh = entry.Timeout;
        renew = false;

        if (InvalidFlags(flags))
        {
            return UpdateResult.InvalidFlags;
        }

        if ((flags & (Syn | Ack)) == Syn)
        {
            if (dst.State >= TcpState.FinWait2 && src.State >= TcpState.FinWait2)
            {
                src.State = TcpState.Closed;
                dst.State = TcpState.Closed;
                return UpdateResult.New;
            }

            if (src.State <= TcpState.SynSent)
            {
                // A retransmitted SYN: still opening.
                src.State = TcpState.SynSent;
                refresh = TimeoutClass.TcpFirstPacket;
                renew = true;
                return UpdateResult.ValidNew;
            }
        }

        return Track(ref src, ref dst, in input, checkSequence, ref refresh, ref renew);
    }

    private static UpdateResult Track(ref TcpPeer src, ref TcpPeer dst, in ConntrackInput input, bool checkSequence, ref TimeoutClass refresh, ref bool renew)
    {
        ushort flags = input.TcpFlags;
        uint win = input.TcpWindow;
        int sws = 0;
        int dws = 0;
        if ((flags & Syn) == 0)
        {
            if ((src.WScale & WScaleFlag) != 0 && (dst.WScale & WScaleFlag) != 0)
            {
                sws = src.WScale & WScaleMask;
                dws = dst.WScale & WScaleMask;
            }
            else if ((src.WScale & WScaleUnknown) != 0 && (dst.WScale & WScaleUnknown) != 0)
            {
                sws = MaxWScale;
                dws = MaxWScale;
            }
        }

        uint seq = input.TcpSeq;
        uint origSeq = seq;
        uint ack = input.TcpAck;
        uint end = seq + input.PayloadLength;
        bool checkAckSkew = true;
        if (src.State < TcpState.SynSent)
        {
            // First packet from this side: learn its sequence space.
            if ((flags & Syn) != 0)
            {
                end++;
                if ((dst.WScale & WScaleFlag) != 0)
                {
                    src.WScale = input.TcpWindowScale;
                    if ((src.WScale & WScaleFlag) != 0)
                    {
                        // Remove the scale factor from the initial window.
                        sws = src.WScale & WScaleMask;
                        win = DivRoundUp(win, 1u << sws);
                        dws = dst.WScale & WScaleMask;
                    }
                    else
                    {
                        // No scaling after all: undo the other side's, and forget it (a retransmitted SYN|ACK).
                        dst.MaxWin = (ushort)(dst.MaxWin << (dst.WScale & WScaleMask));
                        dst.WScale = 0;
                    }
                }
            }

            if ((flags & Fin) != 0)
            {
                end++;
            }

            src.SeqLo = seq;
            src.State = TcpState.SynSent;

            // Slide the window: seqhi may be stale, or we picked the connection up after establishment;
            // then the ack skew is not checked.
            uint window = (uint)Math.Max(1, dst.MaxWin << dws);
            if (src.SeqHi == 1 || SeqGeq(end + window, src.SeqHi))
            {
                src.SeqHi = end + window;
                checkAckSkew = false;
            }

            if (win > src.MaxWin)
            {
                src.MaxWin = (ushort)win;
            }
        }
        else
        {
            if ((flags & Syn) != 0)
            {
                end++;
            }

            if ((flags & Fin) != 0)
            {
                end++;
            }
        }

        // No ACK, or a RST|ACK with ack 0 (stacks that time out a SYN): let the ack skew check pass.
        if ((flags & Ack) == 0 || (ack == 0 && (flags & (Ack | Rst)) == (Ack | Rst)))
        {
            ack = dst.SeqLo;
        }

        if (seq == end)
        {
            // Ease sequencing restrictions on segments without data.
            seq = src.SeqLo;
            end = seq;
        }

        int ackSkew = checkAckSkew ? (int)(dst.SeqLo - ack) : 0;
        if ((SeqGeq(src.SeqHi, end)
            && SeqGeq(seq, src.SeqLo - (uint)(dst.MaxWin << dws))
            && ackSkew >= -MaxAckWindow
            && ackSkew <= (MaxAckWindow << sws)
            && ((flags & Rst) == 0 || origSeq == src.SeqLo || origSeq == src.SeqLo + 1 || origSeq + 1 == src.SeqLo))
            || !checkSequence)
        {
            Learn(ref src, ref dst, win, sws, ack, end);

            if ((flags & Syn) != 0 && src.State < TcpState.SynSent)
            {
                src.State = TcpState.SynSent;
            }

            if ((flags & Fin) != 0 && src.State < TcpState.Closing)
            {
                src.State = TcpState.Closing;
            }

            if ((flags & Ack) != 0)
            {
                if (dst.State == TcpState.SynSent)
                {
                    dst.State = TcpState.Established;
                }
                else if (dst.State == TcpState.Closing)
                {
                    dst.State = TcpState.FinWait2;
                }
            }

            if ((flags & Rst) != 0)
            {
                src.State = TcpState.TimeWait;
                dst.State = TcpState.TimeWait;
            }

            refresh = TimeoutFor(src.State, dst.State);
            renew = true;
            return UpdateResult.Valid;
        }

        if ((dst.State < TcpState.SynSent || dst.State >= TcpState.FinWait2 || src.State >= TcpState.FinWait2)
            && SeqGeq(src.SeqHi + MaxAckWindow, end)
            && SeqGeq(seq, src.SeqLo - MaxAckWindow))
        {
            // pf's loose case: SYNs shotgunned before the peer answers, a stream picked up after a
            // state loss, stray packets right after a close. Accepted without renewing the expiry,
            // so that a flood cannot keep the entry alive.
            Learn(ref src, ref dst, win, sws, ack, end);
            if ((flags & Fin) != 0 && src.State < TcpState.Closing)
            {
                src.State = TcpState.Closing;
            }

            if ((flags & Rst) != 0)
            {
                src.State = TcpState.TimeWait;
                dst.State = TcpState.TimeWait;
            }

            return UpdateResult.Valid;
        }

        return UpdateResult.Invalid;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Learn(ref TcpPeer src, ref TcpPeer dst, uint win, int sws, uint ack, uint end)
    {
        if (src.MaxWin < win)
        {
            src.MaxWin = (ushort)win;
        }

        if (SeqGt(end, src.SeqLo))
        {
            src.SeqLo = end;
        }

        // Slide the window of what the other end may send.
        uint scaled = win << sws;
        if (SeqGeq(ack + scaled, dst.SeqHi))
        {
            dst.SeqHi = ack + Math.Max(scaled, 1u);
        }
    }

    /// <summary>The expiry class for a pair of peer states, as tcp_conn_update chooses it.</summary>
    internal static TimeoutClass TimeoutFor(TcpState src, TcpState dst)
    {
        if (src >= TcpState.FinWait2 && dst >= TcpState.FinWait2)
        {
            return TimeoutClass.TcpClosed;
        }

        if (src >= TcpState.Closing && dst >= TcpState.Closing)
        {
            return TimeoutClass.TcpFinWait;
        }

        if (src < TcpState.Established || dst < TcpState.Established)
        {
            return TimeoutClass.TcpOpening;
        }

        return src >= TcpState.Closing || dst >= TcpState.Closing ? TimeoutClass.TcpClosing : TimeoutClass.TcpEstablished;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SeqGeq(uint a, uint b) => (int)(a - b) >= 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SeqGt(uint a, uint b) => (int)(a - b) > 0;

    private static uint DivRoundUp(uint value, uint divisor) => (value + divisor - 1) / divisor;
}
