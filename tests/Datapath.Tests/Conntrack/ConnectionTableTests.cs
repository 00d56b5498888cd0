using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Tests.Support;
using TestSupport.Frames;
using static TestSupport.Frames.TcpFlags;
using static Datapath.Tests.Conntrack.CtHarness;

namespace Datapath.Tests.Conntrack;

/// <summary>The table itself: zones, commit, mark and label, limits, expiry, sweeping, flushing, dumping.</summary>
public class ConnectionTableTests
{
    [Fact]
    public void Zones_isolate_connections()
    {
        var ct = new CtHarness();
        Assert.Equal(S("new|trk"), ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build(), zone: 1));

        Assert.Equal(S("inv|trk"), ct.State(Frame.Ip(H2, H1).IcmpEcho(0, 5).Build(), zone: 2));
        Assert.Equal(S("new|trk"), ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build(), zone: 2));
        Assert.Equal(S("est|rpl|trk"), ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build(), zone: 1));

        Assert.Equal(1, ct.Table.CountInZone(1));
        Assert.Equal(1, ct.Table.CountInZone(2));
        Assert.Equal(2, ct.Table.Count);
    }

    [Fact]
    public void Without_commit_a_new_connection_is_not_remembered()
    {
        var ct = new CtHarness();

        Assert.Equal(S("new|trk"), ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build(), commit: false));
        Assert.Equal(0, ct.Table.Count);
        Assert.Equal(S("new|trk"), ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build(), commit: false));
    }

    [Fact]
    public void Without_commit_a_committed_connection_is_still_followed()
    {
        var ct = new CtHarness();
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());

        Assert.Equal(S("est|rpl|trk"), ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build(), commit: false));
    }

    [Fact]
    public void An_uncommitted_packet_reports_its_own_tuple()
    {
        var ct = new CtHarness();

        var result = ct.Send(Frame.Ip(H1, H2).Udp(1, 2).Build(), commit: false);

        Assert.Equal(new ConntrackTuple(0x0A000001, 0x0A000002, 1, 2, 17, false), result.OriginalTuple);
    }

    [Fact]
    public void Mark_and_label_are_set_under_their_masks_at_commit()
    {
        var ct = new CtHarness();
        UInt128 label = new(0x1111_0000_0000_0000, 0xABCD);

        var first = ct.Send(Frame.Ip(H1, H2).Udp(1, 2).Build(), mark: 0x12345678, markMask: 0x0000FFFF, label: label, labelMask: UInt128.MaxValue);
        Assert.Equal(0x5678u, first.Mark);
        Assert.Equal(label, first.Label);

        var second = ct.Send(Frame.Ip(H1, H2).Udp(1, 2).Build(), mark: 0xAB000000, markMask: 0xFF000000, label: 0, labelMask: 0xFF);
        Assert.Equal(0xAB005678u, second.Mark);
        Assert.Equal(new UInt128(0x1111_0000_0000_0000, 0xAB00), second.Label);

        // Without commit the packet reads the connection's mark and label but cannot change them.
        var reply = ct.Send(Frame.Ip(H2, H1).Udp(2, 1).Build(), commit: false, mark: 1, markMask: uint.MaxValue);
        Assert.Equal(0xAB005678u, reply.Mark);
        Assert.Equal(S("est|rpl|trk"), reply.State);

        Assert.Equal(
            "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),mark=2868926072,labels=0x1111000000000000000000000000ab00",
            ConntrackFormatter.FormatEntry(Assert.Single(ct.Table.Snapshot())));
    }

    [Fact]
    public void The_global_limit_refuses_new_connections_with_a_counted_drop()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { ConnectionLimit = 2 });
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
        ct.State(Frame.Ip(H1, H2).Udp(1, 3).Build());

        var refused = ct.Send(Frame.Ip(H1, H2).Udp(1, 4).Build());

        Assert.True(refused.Drop);
        Assert.Equal(S("new|trk"), refused.State);
        Assert.Equal(2, ct.Table.Count);
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.GlobalLimitDrop]);
        Assert.False(ct.Send(Frame.Ip(H2, H1).Udp(2, 1).Build()).Drop);
    }

    [Fact]
    public void A_zone_limit_applies_to_its_zone_only()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { ZoneLimits = new Dictionary<ushort, int> { [5] = 1 } });
        Assert.False(ct.Send(Frame.Ip(H1, H2).Udp(1, 2).Build(), zone: 5).Drop);

        Assert.True(ct.Send(Frame.Ip(H1, H2).Udp(1, 3).Build(), zone: 5).Drop);
        Assert.False(ct.Send(Frame.Ip(H1, H2).Udp(1, 3).Build(), zone: 6).Drop);
        Assert.Equal(1, ct.Table.Stats[ConntrackCounter.ZoneLimitDrop]);
    }

    [Fact]
    public void A_slot_freed_by_expiry_admits_a_new_connection_at_the_limit()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { ConnectionLimit = 1 });
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
        ct.Now += Defaults.ConntrackOptions.Timeouts.UdpFirstMs;
        ct.Table.Sweep(ct.Now, 10);

        Assert.False(ct.Send(Frame.Ip(H1, H2).Udp(1, 3).Build()).Drop);
    }

    public static TheoryData<string, long> TimeoutCases() => new()
    {
        { "tcp-syn-sent", 30_000 },
        { "tcp-syn-recv", 30_000 },
        { "tcp-established", 24 * 3600 * 1000L },
        { "tcp-fin-wait", 15 * 60 * 1000L },
        { "tcp-time-wait", 45_000 },
        { "tcp-close", 30_000 },
        { "udp-first", 60_000 },
        { "udp-single", 60_000 },
        { "udp-multiple", 30_000 },
        { "icmp-first", 60_000 },
        { "icmp-reply", 30_000 },
    };

    /// <summary>Drives a connection into one timeout state; returns a packet that would match it.</summary>
    private static byte[] Into(CtHarness ct, string state)
    {
        byte[] c(uint seq, uint ack, ushort flags) => Frame.Ip(H1, H2).Tcp(999, 80, flags, seq, ack).Build();
        byte[] s(uint seq, uint ack, ushort flags) => Frame.Ip(H2, H1).Tcp(80, 999, flags, seq, ack).Build();
        switch (state)
        {
            case "tcp-syn-sent":
                ct.State(c(1, 0, Syn));
                return c(1, 0, Syn);
            case "tcp-syn-recv":
                ct.State(c(1, 0, Syn));
                ct.State(s(50, 2, Syn | Ack));
                return c(2, 51, Ack);
            case "tcp-established":
            case "tcp-fin-wait":
            case "tcp-time-wait":
            case "tcp-close":
                ct.State(c(1, 0, Syn));
                ct.State(s(50, 2, Syn | Ack));
                ct.State(c(2, 51, Ack));
                if (state == "tcp-established")
                {
                    return c(2, 51, Ack);
                }

                ct.State(c(2, 51, Fin | Ack));
                if (state == "tcp-fin-wait")
                {
                    return s(51, 3, Ack);
                }

                ct.State(s(51, 3, Fin | Ack));
                if (state == "tcp-time-wait")
                {
                    return c(3, 52, Ack);
                }

                ct.State(c(3, 52, Ack));
                return s(52, 3, Ack);
            case "udp-first":
                ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
                return Frame.Ip(H1, H2).Udp(1, 2).Build();
            case "udp-single":
                ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
                ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
                return Frame.Ip(H1, H2).Udp(1, 2).Build();
            case "udp-multiple":
                ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
                ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build());
                return Frame.Ip(H1, H2).Udp(1, 2).Build();
            case "icmp-first":
                ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 3).Build());
                return Frame.Ip(H1, H2).IcmpEcho(8, 3).Build();
            default:
                ct.State(Frame.Ip(H1, H2).IcmpEcho(8, 3).Build());
                ct.State(Frame.Ip(H2, H1).IcmpEcho(0, 3).Build());
                return Frame.Ip(H1, H2).IcmpEcho(8, 3).Build();
        }
    }

    [Theory]
    [MemberData(nameof(TimeoutCases))]
    public void Each_state_expires_after_its_default_timeout(string state, long timeoutMs)
    {
        var lookedUp = new CtHarness();
        Into(lookedUp, state);
        long last = lookedUp.Now;
        Assert.Equal(timeoutMs, Assert.Single(lookedUp.Table.Snapshot()).ExpirationMs - last);

        // One millisecond before: the sweep leaves it; at the timeout: the sweep removes it.
        Assert.Equal(0, lookedUp.Table.Sweep(last + timeoutMs - 1, 100));
        Assert.Equal(1, lookedUp.Table.Count);
        Assert.Equal(1, lookedUp.Table.Sweep(last + timeoutMs, 100));
        Assert.Equal(0, lookedUp.Table.Count);
    }

    [Theory]
    [MemberData(nameof(TimeoutCases))]
    public void A_lookup_after_the_timeout_does_not_find_the_connection(string state, long timeoutMs)
    {
        var ct = new CtHarness();
        byte[] next = Into(ct, state);
        ct.Now += timeoutMs;
        var removed = new List<RemovedConnection>();

        var result = ct.State(next);

        Assert.False(result.HasFlag(CtState.Established));
        ct.Table.Sweep(ct.Now, 0, removed);
        Assert.Equal(RemovalReason.Expired, Assert.Single(removed).Reason);
    }

    [Fact]
    public void Traffic_renews_the_expiry()
    {
        var ct = new CtHarness();
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());
        ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build());

        for (int i = 0; i < 10; i++)
        {
            ct.Now += 20_000;
            Assert.Equal(S("est|trk"), ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build()));
            Assert.Equal(0, ct.Table.Sweep(ct.Now, 100));
        }
    }

    [Fact]
    public void Configured_timeouts_replace_the_defaults()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { Timeouts = Defaults.ConntrackOptions.Timeouts with { UdpFirstMs = 5 } });
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build());

        Assert.Equal(1, ct.Table.Sweep(ct.Now + 5, 10));
    }

    [Fact]
    public void A_sweep_removes_no_more_than_its_budget()
    {
        var ct = new CtHarness();
        for (ushort port = 1; port <= 25; port++)
        {
            ct.State(Frame.Ip(H1, H2).Udp(port, 53).Build());
        }

        long later = ct.Now + 60_000;
        var removed = new List<RemovedConnection>();
        Assert.Equal(10, ct.Table.Sweep(later, 10, removed));
        Assert.Equal(10, removed.Count);
        Assert.Equal(15, ct.Table.Count);
        Assert.Equal(10, ct.Table.Sweep(later, 10));
        Assert.Equal(5, ct.Table.Sweep(later, 10));
        Assert.Equal(0, ct.Table.Count);
        Assert.Equal(25, ct.Table.Stats[ConntrackCounter.Expired]);
    }

    [Fact]
    public void A_sweep_takes_the_oldest_first_and_leaves_live_connections()
    {
        var ct = new CtHarness();
        ct.State(Frame.Ip(H1, H2).Udp(1, 53).Build());
        ct.Now += 30_000;
        ct.State(Frame.Ip(H1, H2).Udp(2, 53).Build());
        var removed = new List<RemovedConnection>();

        Assert.Equal(1, ct.Table.Sweep(ct.Now + 30_000, 10, removed));

        Assert.Equal((ushort)1, Assert.Single(removed).Key.SrcPort);
        Assert.Equal(1, ct.Table.Count);
        Assert.Equal(ct.Now + 60_000, ct.Table.NextExpirationMs);
    }

    [Fact]
    public void A_replaced_connection_is_reported_at_the_next_sweep()
    {
        var ct = new CtHarness();
        ct.State(Frame.Ip(H1, H2).Tcp(5, 6, Syn, 1, 0).Build());
        ct.State(Frame.Ip(H2, H1).Tcp(6, 5, Rst | Ack, 9, 0).Build());
        ct.State(Frame.Ip(H1, H2).Tcp(5, 6, Syn, 1000, 0).Build());
        var removed = new List<RemovedConnection>();

        ct.Table.Sweep(ct.Now, 10, removed);

        var gone = Assert.Single(removed);
        Assert.Equal(RemovalReason.Replaced, gone.Reason);
        Assert.Equal(Parse(Frame.Ip(H1, H2).Tcp(5, 6, Syn, 1, 0).Build()).ShardHash, gone.ShardHash);
    }

    [Fact]
    public void Flush_by_zone_removes_only_that_zone()
    {
        var ct = new CtHarness();
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build(), zone: 1);
        ct.State(Frame.Ip(H1, H2).Udp(1, 3).Build(), zone: 1);
        ct.State(Frame.Ip(H1, H2).Udp(1, 2).Build(), zone: 2);
        var removed = new List<RemovedConnection>();

        Assert.Equal(2, ct.Table.Flush(1, removed));

        Assert.Equal(2, removed.Count);
        Assert.Equal(0, ct.Table.CountInZone(1));
        Assert.Equal(1, ct.Table.CountInZone(2));
        Assert.Equal(S("new|trk"), ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build(), zone: 1));
        Assert.Equal(S("est|rpl|trk"), ct.State(Frame.Ip(H2, H1).Udp(2, 1).Build(), zone: 2));
        Assert.Equal(2, ct.Table.Flush());
        Assert.Equal(0, ct.Table.Count);
    }

    [Fact]
    public void The_table_grows_past_its_initial_capacity_and_keeps_every_connection()
    {
        var ct = new CtHarness(Defaults.ConntrackOptions with { InitialCapacity = 16 });
        for (ushort port = 1; port <= 500; port++)
        {
            ct.State(Frame.Ip(H1, H2).Udp(port, 53).Build());
        }

        Assert.Equal(500, ct.Table.Count);
        for (ushort port = 1; port <= 500; port++)
        {
            Assert.Equal(S("est|rpl|trk"), ct.State(Frame.Ip(H2, H1).Udp(53, port).Build()));
        }
    }

    [Fact]
    public void A_ct_in_another_zone_starts_from_a_clean_state_and_the_same_zone_keeps_it()
    {
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var args = new ConntrackArgs { Commit = true };
        byte[] frame = Frame.Ip(H1, H2).Udp(1, 2).Build();
        var metadata = new PacketMetadata { CtState = CtState.Tracked | CtState.Related, CtZone = 9 };

        var otherZone = table.Execute(Parse(frame, 0, in metadata), in args, 0);
        Assert.Equal(S("new|trk"), otherZone.State);

        var zone9 = args with { Zone = 9 };
        table.Execute(Parse(Frame.Ip(H2, H1).Udp(2, 1).Build(), 9), in zone9, 0);
        var sameZone = table.Execute(Parse(frame, 9, in metadata), in zone9, 0);
        Assert.Equal(S("est|rel|rpl|trk"), sameZone.State);
    }

    [Fact]
    public void The_batch_form_gives_the_same_answers_as_one_by_one()
    {
        byte[][] frames =
        [
            Frame.Ip(H1, H2).Tcp(7, 80, Syn, 1, 0).Build(), Frame.Ip(H2, H1).Tcp(80, 7, Syn | Ack, 10, 2).Build(), Frame.Ip(H1, H2).Tcp(7, 80, Ack, 2, 11).Build(),
            Frame.Ip(H1, H2).Udp(9, 53).Build(), Frame.Ip(H2, H1).Udp(53, 9).Build(), Frame.Ethernet(Frame.Mac1, "ff:ff:ff:ff:ff:ff").Arp(1, Frame.Mac1, H1, "00:00:00:00:00:00", H2).Build(), Frame.Ip(H1, H2).IcmpEcho(8, 4).Build(), Frame.Ip(H2, H1).IcmpEcho(0, 4).Build(),
        ];
        var inputs = frames.Select(f => Parse(f)).ToArray();
        var args = new ConntrackArgs { Commit = true };
        var batched = new ConntrackResult[inputs.Length];
        new ConnectionTable(Defaults.ConntrackOptions).Execute(inputs, in args, 5, batched);

        var single = new ConnectionTable(Defaults.ConntrackOptions);
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(single.Execute(in inputs[i], in args, 5).State, batched[i].State);
        }
    }

    [Fact]
    public void Batches_that_fill_and_grow_the_table_answer_as_one_by_one_does()
    {
        // A batch's lookups first ask the cache for their buckets and slots (Prefetch): new, known,
        // reply and untrackable inputs in batches of 32, on a table of 16 slots that grows mid-batch.
        var options = Defaults.ConntrackOptions with { InitialCapacity = 16 };
        var batched = new ConnectionTable(options);
        var single = new ConnectionTable(options);
        var args = new ConntrackArgs { Commit = true };
        byte[] arp = Frame.Ethernet(Frame.Mac1, "ff:ff:ff:ff:ff:ff").Arp(1, Frame.Mac1, H1, "00:00:00:00:00:00", H2).Build();
        var inputs = new ConntrackInput[32];
        var results = new ConntrackResult[32];
        var states = new HashSet<CtState>();
        for (int round = 0; round < 40; round++)
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                // Every connection in turn: from the client in the first sweep of all 300, from the server in the second, and so on.
                int packet = (round * inputs.Length) + i;
                ushort client = (ushort)(1 + (packet % 300));
                bool fromServer = packet / 300 % 2 == 1;
                inputs[i] = Parse(i == 5 ? arp : fromServer ? Frame.Ip(H2, H1).Udp(53, client).Build() : Frame.Ip(H1, H2).Udp(client, 53).Build());
            }

            if (round % 2 == 0)
            {
                batched.Execute(inputs, in args, round, results);
            }
            else
            {
                Assert.Equal(inputs.Length, batched.ExecuteUntilClaim(inputs, in args, round, results));
            }

            for (int i = 0; i < inputs.Length; i++)
            {
                var expected = single.Execute(in inputs[i], in args, round);
                Assert.Equal(expected, results[i]);
                states.Add(expected.State);
            }
        }

        Assert.Equal(300, single.Count);
        Assert.Equal(single.Count, batched.Count);
        Assert.Superset(new HashSet<CtState> { S("new|trk"), S("est|trk"), S("est|rpl|trk"), S("inv|trk") }, states);
    }

    [Fact]
    public void Dump_formats_tcp_like_dpctl_dump_conntrack()
    {
        var ct = new CtHarness();
        ct.State(Frame.Ip(H1, H2).Tcp(43210, 8080, Syn, 1, 0).Build(), zone: 3);
        ct.State(Frame.Ip(H2, H1).Tcp(8080, 43210, Syn | Ack, 9, 2).Build(), zone: 3);
        ct.State(Frame.Ip(H1, H2).Tcp(43210, 8080, Ack, 2, 10).Build(), zone: 3);
        ct.State(Frame.Ip(H1v6, H2v6).Tcp(5555, 443, Syn, 1, 0).Build());

        var lines = ct.Table.Snapshot().Select(e => ConntrackFormatter.FormatEntry(e)).ToList();

        Assert.Equal(
        [
            "tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=43210,dport=8080),reply=(src=10.0.0.2,dst=10.0.0.1,sport=8080,dport=43210),zone=3,protoinfo=(state=ESTABLISHED)",
            "tcp,orig=(src=fd00::1,dst=fd00::2,sport=5555,dport=443),reply=(src=fd00::2,dst=fd00::1,sport=443,dport=5555),protoinfo=(state=SYN_SENT)",
        ], lines);
    }

    [Theory]
    [InlineData(TcpState.FinWait2, TcpState.FinWait2, TcpState.TimeWait)]
    [InlineData(TcpState.SynRecv, TcpState.SynSent, TcpState.Established)]
    [InlineData(TcpState.Established, TcpState.Closing, TcpState.Closing)]
    public void Tcp_states_coalesce_as_ovs_prints_them(TcpState orig, TcpState reply, TcpState printed)
    {
        Assert.Equal(printed, ConntrackFormatter.CoalesceTcpState(orig, reply));
    }

    [Fact]
    public void Ct_state_flags_print_in_bit_order_or_zero()
    {
        Assert.Equal("0", ConntrackFormatter.FormatState(CtState.None));
        Assert.Equal("est|rpl|trk", ConntrackFormatter.FormatState(CtState.Tracked | CtState.Reply | CtState.Established));
        Assert.Equal("new|est|rel|rpl|inv|trk|snat|dnat", ConntrackFormatter.FormatState((CtState)0xFF));
    }

    [Fact]
    public void Executing_an_established_connection_allocates_nothing()
    {
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var args = new ConntrackArgs { Commit = true };
        var there = Parse(Frame.Ip(H1, H2).Udp(1, 2).Build());
        var back = Parse(Frame.Ip(H2, H1).Udp(2, 1).Build());
        RunBothWays(table, in there, in back, in args, fromMs: 0); // warm up the JIT (tiering may allocate once)

        long before = GC.GetAllocatedBytesForCurrentThread();
        RunBothWays(table, in there, in back, in args, fromMs: 1000);

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());

        static void RunBothWays(ConnectionTable table, in ConntrackInput there, in ConntrackInput back, in ConntrackArgs args, long fromMs)
        {
            for (int i = 0; i < 1000; i++)
            {
                table.Execute(in there, in args, fromMs + i);
                table.Execute(in back, in args, fromMs + i);
            }
        }
    }
}
