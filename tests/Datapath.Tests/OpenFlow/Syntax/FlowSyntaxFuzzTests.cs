using System.Text;
using Datapath.Conntrack;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.Tests.Support;
using Xunit.Abstractions;

namespace Datapath.Tests.OpenFlow.Syntax;

/// <summary>
/// Flow text arrives from outside (add-flows files, del-flows, mod-flows and dump-flows arguments,
/// trace flows, flush-conntrack arguments): mutations of real lines (seeded, so a failure
/// reproduces) must each parse or be refused with the parser's documented exception, which every
/// caller catches; any other exception would end a bridge actor or a control request and is a
/// defect. Long inputs must not make the parsers quadratic: the tests' own running time bounds them.
/// </summary>
public sealed class FlowSyntaxFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Lines =
    [
        "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)",
        "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2",
        " cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0, priority=10,arp actions=NORMAL",
        "table=0,priority=5,cookie=0x1f,ip actions=drop",
        "tcp,tp_dst=80 actions=output:1",
        "priority=32768,udp6,udp_src=53 actions=drop",
        "ip,nw_src=10.0.0.0/8,nw_dst=10.1.2.3/255.255.0.255 actions=drop",
        "ipv6,ipv6_src=fd00::/16 actions=drop",
        "dl_src=01:00:00:00:00:00/01:00:00:00:00:00,dl_dst=AA:bb:cc:dd:ee:ff actions=drop",
        "dl_vlan=10,dl_vlan_pcp=3 actions=pop_vlan,output:2",
        "vlan_tci=0x1000/0x1000 actions=strip_vlan",
        "tcp,tcp_flags=+syn-ack actions=drop",
        "tcp,tcp_flags=syn|ack actions=drop",
        "ct_state=+est-rel+trk,ct_zone=5,ct_mark=0x1/0x3,ct_label=0x10 actions=drop",
        "reg3=0x5/0xff,metadata=0x10,in_port=7 actions=resubmit(,2)",
        "icmp,icmp_type=8,icmp_code=0 actions=in_port",
        "icmp6,icmp_type=135,nd_target=fd00::1,nd_sll=02:00:00:00:00:01 actions=drop",
        "arp,nw_src=10.0.0.1,arp_op=1,arp_sha=02:00:00:00:00:01 actions=FLOOD",
        "ip,ip_frag=later,nw_tos=8,nw_ecn=1,nw_ttl=3 actions=dec_ttl,ALL",
        "ip actions=ct(commit,zone=NXM_NX_REG0[0..15],table=3,exec(set_field:0x1->ct_mark,set_field:0x2/0x3->ct_label))",
        "ip actions=load:0x5->NXM_NX_REG1[4..7],load:1->OXM_OF_METADATA[],set_field:10.0.0.9->nw_src",
        "tcp actions=mod_dl_src:02:00:00:00:00:09,mod_nw_dst:1.2.3.4,mod_nw_tos:16,mod_tp_src:99,mod_tp_dst:100,2",
        "table=2, hard_timeout=30, idle_timeout=10, actions=push_vlan:0x8100,mod_vlan_vid:5,note:01.02,goto_table:4",
        "actions=ct_clear,resubmit:3,resubmit(4,5)",
        "dl_type=0x88cc actions=drop",
        "ip,ip_dscp=46 actions=set_field:46->ip_dscp",
        "vlan_vid=0x1064/0x1fff,vlan_pcp=3 actions=set_field:4100->vlan_vid,set_field:2->vlan_pcp",
        "in_port_oxm=3,dl_src=00:00:00:00:00:01,ip,ip_proto=6,ip_ecn=1,ip_frag=no actions=drop",
        "ip actions=ct(commit,nat(src=10.0.0.1-10.0.0.5:1000-2000,persistent,random))",
        "ip actions=ct(commit,nat(dst=10.0.0.1:80,hash))",
        "ipv6 actions=ct(commit,nat(src=[2001:db8::1]-[2001:db8::9]:5000-6000))",
        "ip actions=ct(commit,zone=5,timeout=short,exec(set_field:0x1->ct_mark),nat(src=1.2.3.4))",
        "ct_state=+est+trk,ip,ct_nw_src=10.0.0.0/8,ct_nw_dst=192.0.2.1,ct_nw_proto=6,ct_tp_src=1000,ct_tp_dst=80 actions=drop",
        "ct_state=+trk-inv,ipv6,ct_ipv6_src=fd00::/64 actions=drop",
        "ct_state=+snat,ct_tp_dst=0x50/0xfff0 actions=drop",
        "actions=controller(reason=no_match,max_len=128,id=3),controller:64,controller",
        "ip actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],mod_nw_ttl:9,mod_vlan_pcp:2,write_metadata:0x5/0xff,goto_table:3",
        "send_flow_rem,check_overlap,table=4 actions=exit",
    ];

    private static readonly string[] Weird =
    [
        "(", ")", "((", "))", "[", "]", "[]", "..", "->", "=", ":", ",", "/", "-", "+", "|", " ", "\t", "#", "\"", "\\",
        "\0", "\r", "\n", "\u00e9", "\u0661", "\uff10", "\ud800", "\udc00", "\U0001f600", "\u200b", "\u00a0", "\u2028",
        "%eth0", "::", ":::", "[::1]", "0.0.0.0", "255.255.255.255",
    ];

    private static readonly string[] Numbers =
    [
        "0x", "0X", "-1", "+1", "0", "00", "1e9", "1.5", "NaN", "18446744073709551616", "18446744073709551615", "340282366920938463463374607431768211456", "4294967296", "65536", "256",
        "0x10000000000000000", "0xffffffffffffffffffffffffffffffffff", "0x00000000000000000000000000000000000001",
        "99999999999999999999999999999999999999999999", "-0", "0x-1", "2147483648", "-2147483649",
    ];

    private static readonly string[] FlushArgs =
    [
        "zone=3", "mark=0x10/0xf0", "labels=0x100/0xf00", "",
        "ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.3,ct_nw_proto=17,ct_tp_src=53,ct_tp_dst=1000",
        "ct_ipv6_src=fd00::1,ct_ipv6_dst=fd00::2,ct_nw_proto=6,ct_tp_src=1,ct_tp_dst=2",
        "ct_nw_src=10.0.0.4,ct_nw_proto=1,icmp_id=7,icmp_type=8,icmp_code=0",
        "ct_nw_dst=10.0.0.4,ct_nw_proto=6",
    ];

    [Fact]
    public void Mutated_flow_lines_parse_or_are_refused_with_a_flow_syntax_error()
    {
        string[] corpus = Corpus();
        var random = new Random(7);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 200_000; i++)
        {
            string line = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            if (Outcome(i, line, () => FlowParser.ParseLine(line), roundTrip: true))
            {
                parsed++;
            }
            else
            {
                refused++;
            }
        }

        // The mutations reach past the first token: many lines still parse, many are refused deep inside.
        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 5_000, $"{parsed} parsed");
        Assert.True(refused > 100_000, $"{refused} refused");
    }

    [Fact]
    public void Mutated_del_mod_dump_and_trace_arguments_parse_or_are_refused_with_a_flow_syntax_error()
    {
        string[] corpus = Corpus();
        var random = new Random(8);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 150_000; i++)
        {
            string text = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            int actions = text.IndexOf("actions=", StringComparison.Ordinal);
            string match = actions < 0 ? text : text[..actions];
            bool ok = (i % 3) switch
            {
                0 => Outcome(i, match, () => FlowParser.ParseFilter(match)),
                1 => Outcome(i, text, () => FlowParser.ParseModification(text)),
                _ => Outcome(i, match, () => FlowParser.ParseMatch(match)),
            };
            if (ok)
            {
                parsed++;
            }
            else
            {
                refused++;
            }
        }

        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 10_000, $"{parsed} parsed");
        Assert.True(refused > 10_000, $"{refused} refused");
    }

    /// <summary>Lines put together from every field and action with odd values: what parses prints as a line that parses to the same flow.</summary>
    [Fact]
    public void Generated_lines_of_every_field_and_action_parse_and_print_back_or_are_refused()
    {
        var random = new Random(12);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 100_000; i++)
        {
            string line = Generate(random);
            FlowEntry? entry = null;
            if (Outcome(i, line, () => entry = FlowParser.ParseLine(line)))
            {
                parsed++;
                string printed = entry!.ToString();
                Assert.True(entry.Equals(FlowParser.ParseLine(printed)), $"generated {i}: {line}\nprinted as {printed}, which parses to another flow");
            }
            else
            {
                refused++;
            }
        }

        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 5_000, $"{parsed} parsed");
        Assert.True(refused > 50_000, $"{refused} refused");
    }

    [Fact]
    public void Mutated_flow_files_are_installed_whole_or_refused_whole()
    {
        string[] corpus = Corpus();
        var random = new Random(9);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var file = new StringBuilder();
            int lines = 1 + random.Next(12);
            for (int l = 0; l < lines; l++)
            {
                string line = corpus[random.Next(corpus.Length)];
                file.Append(random.Next(4) == 0 ? Mutate(line, corpus, random) : line).Append(random.Next(3) == 0 ? "\r\n" : "\n");
            }

            string text = file.ToString();
            if (Outcome(i, text, () => FlowParser.ParseFile(text, "fuzz.flows")))
            {
                parsed++;
            }
            else
            {
                refused++;
            }
        }

        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 2_000, $"{parsed} parsed");
        Assert.True(refused > 2_000, $"{refused} refused");
    }

    /// <summary>Tokens of 100,000 characters anywhere in a line: parsed or refused, in time linear in the line (the test's run time is the bound).</summary>
    [Fact]
    public void Lines_with_hundred_thousand_character_tokens_are_refused_or_parsed_without_blowing_up()
    {
        string[] corpus = Corpus();
        var random = new Random(10);
        string[] fillers =
        [
            new string('1', 100_000), "0x" + new string('0', 100_000) + "1", new string('(', 100_000), new string(')', 100_000),
            string.Concat(Enumerable.Repeat("(a", 50_000)) + new string(')', 50_000), new string('[', 100_000), new string(',', 100_000),
            string.Concat(Enumerable.Repeat("1,", 50_000)), string.Concat(Enumerable.Repeat("+trk", 25_000)),
            string.Concat(Enumerable.Repeat("n_packets=1,", 10_000)), string.Concat(Enumerable.Repeat("ct(", 30_000)) + new string(')', 30_000),
            new string('a', 100_000), string.Concat(Enumerable.Repeat("01.", 33_333)) + "01", new string(':', 100_000),
            string.Concat(Enumerable.Repeat("syn|", 25_000)) + "syn", string.Concat(Enumerable.Repeat("\U0001f600", 50_000)),
        ];
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 400; i++)
        {
            string line = corpus[random.Next(corpus.Length)];
            string filler = fillers[i % fillers.Length];
            int at = random.Next(line.Length + 1);
            string text = line[..at] + filler + line[at..];
            if (Outcome(i, text, () => FlowParser.ParseLine(text)))
            {
                parsed++;
            }
            else
            {
                refused++;
            }

            string match = text.Split("actions=")[0];
            _ = Outcome(i, match, () => FlowParser.ParseFilter(match));
        }

        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 0, $"{parsed} parsed");
        Assert.True(refused > 100, $"{refused} refused");
    }

    [Fact]
    public void Mutated_flush_conntrack_arguments_parse_or_are_refused_with_a_format_error()
    {
        var random = new Random(11);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 100_000; i++)
        {
            var args = new string[random.Next(5)];
            for (int a = 0; a < args.Length; a++)
            {
                string arg = FlushArgs[random.Next(FlushArgs.Length)];
                args[a] = random.Next(3) == 0 ? arg : Mutate(arg, FlushArgs, random);
            }

            try
            {
                ConntrackFlushFilter.Parse(args);
                parsed++;
            }
            catch (FormatException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{string.Join(" ", args.Select(Escape))}");
            }
        }

        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 20_000, $"{parsed} parsed");
        Assert.True(refused > 20_000, $"{refused} refused");
    }

    private static readonly string[] Prefixes = ["", "ip,", "tcp,", "udp,", "sctp,", "icmp,", "arp,", "ipv6,", "tcp6,", "udp6,", "icmp6,", "icmp6,icmp_type=135,", "ct_state=+trk,ip,", "ct_state=+trk,ipv6,", "ct_state=+trk,tcp,"];

    private static readonly string[] FieldNames =
    [
        "in_port", "dl_src", "dl_dst", "eth_src", "dl_type", "vlan_tci", "dl_vlan", "dl_vlan_pcp", "vlan_vid", "vlan_pcp", "nw_src", "nw_dst", "ip_src",
        "ipv6_src", "ipv6_dst", "ipv6_label", "nw_proto", "ip_proto", "nw_tos", "ip_dscp", "nw_ecn", "nw_ttl", "nw_frag", "ip_frag", "tp_src", "tp_dst",
        "tcp_src", "udp_dst", "tcp_flags", "icmp_type", "icmp_code", "arp_spa", "arp_tpa", "arp_op", "arp_sha", "arp_tha", "nd_target", "nd_sll",
        "nd_tll", "ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_proto", "ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst", "ct_tp_src",
        "ct_tp_dst", "metadata", "reg0", "reg7", "xreg3", "xxreg1", "table", "priority", "cookie", "idle_timeout", "hard_timeout",
    ];

    private static readonly string[] Integers =
    [
        "0", "1", "2", "3", "7", "8", "80", "255", "256", "4095", "4096", "0x1000", "0x1fff", "65535", "65536", "0xffff", "0x10/0xf0", "0x5/0xff", "1/1",
        "4294967295", "0xffffffff", "18446744073709551615", "0xffffffffffffffffffffffffffffffff",
    ];

    private static readonly string[] Ipv4s = ["10.0.0.1", "10.0.0.0/8", "10.0.0.0/255.0.255.0", "0.0.0.0/0", "255.255.255.255/32"];

    private static readonly string[] Ipv6s = ["fd00::1", "fd00::/64", "::/0", "::ffff:1.2.3.4", "fd00::1/ffff::ffff"];

    private static readonly string[] Macs = ["02:00:00:00:00:01", "01:00:00:00:00:00/01:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"];

    private static readonly string[] Flags = ["+trk", "+trk+est-new", "-inv+rpl", "new|trk", "0x21/0x21", "syn|ack", "+syn-fin", "+ns", "later", "no", "first", "not_later"];

    private static readonly string[] Values = [.. Integers, .. Ipv4s, .. Ipv6s, .. Macs, .. Flags];

    /// <summary>Mostly a value of the field's own kind, sometimes any.</summary>
    private static string ValueFor(string field, Random random)
    {
        string[] pool = random.Next(4) == 0 ? Values
            : field is "dl_src" or "dl_dst" or "eth_src" or "arp_sha" or "arp_tha" or "nd_sll" or "nd_tll" or "mod_dl_src" ? Macs
            : field is "nw_src" or "nw_dst" or "ip_src" or "arp_spa" or "arp_tpa" or "ct_nw_src" or "ct_nw_dst" or "mod_nw_dst" ? Ipv4s
            : field.StartsWith("ipv6_", StringComparison.Ordinal) && field != "ipv6_label" || field is "nd_target" or "ct_ipv6_src" or "ct_ipv6_dst" ? Ipv6s
            : field is "ct_state" or "tcp_flags" or "nw_frag" or "ip_frag" ? Flags
            : Integers;
        return pool[random.Next(pool.Length)];
    }

    private static readonly string[] Subfields = ["NXM_NX_REG0[]", "NXM_NX_REG1[0..15]", "NXM_NX_REG2[31]", "OXM_OF_METADATA[]", "NXM_OF_IP_SRC[]", "NXM_OF_TCP_DST[]", "NXM_NX_XXREG0[0..63]", "NXM_OF_ETH_SRC[]", "NXM_NX_CT_MARK[]", "NXM_OF_VLAN_TCI[0..11]"];

    private static readonly string[] ActionTemplates =
    [
        "output:V", "V", "in_port", "normal", "flood", "all", "controller", "controller:V", "controller(max_len=V,reason=no_match,id=V)", "drop",
        "set_field:V->F", "load:V->S", "move:S->S", "mod_dl_src:V", "mod_nw_dst:V", "mod_nw_tos:V", "mod_tp_src:V", "mod_nw_ttl:V", "dec_ttl",
        "mod_vlan_vid:V", "mod_vlan_pcp:V", "push_vlan:V", "pop_vlan", "strip_vlan", "resubmit:V", "resubmit(V,V)", "resubmit(,V)", "goto_table:V",
        "write_metadata:V", "note:V", "exit", "ct_clear", "ct(commit,zone=V,table=V)", "ct(commit,nat(src=V))", "ct(nat(dst=V:V-V,hash))",
        "ct(commit,exec(set_field:V->ct_mark,load:V->S))", "ct(zone=S,table=V,nat)", "ct(commit,timeout=V,nat(src=V-V))",
    ];

    private static string Generate(Random random)
    {
        var line = new StringBuilder(Prefixes[random.Next(Prefixes.Length)]);
        int fields = random.Next(3);
        for (int f = 0; f < fields; f++)
        {
            string name = FieldNames[random.Next(FieldNames.Length)];
            line.Append(name).Append('=').Append(ValueFor(name, random)).Append(',');
        }

        line.Append(" actions=");
        int actions = 1 + random.Next(3);
        for (int a = 0; a < actions; a++)
        {
            string template = ActionTemplates[random.Next(ActionTemplates.Length)];
            var action = new StringBuilder();
            string field = FieldNames[random.Next(FieldNames.Length - 5)];
            foreach (char c in template)
            {
                _ = c switch
                {
                    'V' => action.Append(ValueFor(template.StartsWith("set_field", StringComparison.Ordinal) ? field : template.Split(':', '(')[0], random)),
                    'F' => action.Append(field),
                    'S' => action.Append(Subfields[random.Next(Subfields.Length)]),
                    _ => action.Append(c),
                };
            }

            line.Append(a == 0 ? string.Empty : ",").Append(action);
        }

        return line.ToString();
    }

    /// <summary>The inline lines and the repository's flow tables.</summary>
    private static string[] Corpus()
    {
        var lines = new List<string>(Lines);
        foreach (string file in new[] { TestData.Capture("firewall.flows"), Path.Combine(TestData.Capture("nat"), "nat.flows"), Path.Combine(TestData.Capture("nat-extra"), "nat-extra.flows") })
        {
            lines.AddRange(File.ReadAllLines(file).Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')));
        }

        // Every line of the corpus is valid: the mutations start from text the parser accepts.
        foreach (string line in lines)
        {
            _ = FlowParser.ParseLine(line);
        }

        return [.. lines];
    }

    /// <summary>True when <paramref name="parse"/> accepted the text, false when it refused it with a flow syntax error; fails on anything else.</summary>
    private static bool Outcome(int i, string text, Func<object> parse, bool roundTrip = false)
    {
        try
        {
            object result = parse();
            if (roundTrip && result is FlowEntry entry)
            {
                // What dump-flows would print of the accepted flow is itself a valid flow line.
                string printed = entry.ToString();
                Assert.True(entry.Equals(FlowParser.ParseLine(printed)), $"mutation {i}: {Escape(text)}\nprinted as {Escape(printed)}, which parses to another flow");
            }

            return true;
        }
        catch (FlowSyntaxException e)
        {
            Assert.NotEmpty(e.Errors);
            foreach (var error in e.Errors)
            {
                Assert.False(string.IsNullOrWhiteSpace(error.Message), $"mutation {i}: an empty message\n{Escape(text)}");
                Assert.True(error.Column >= 1 && error.Line >= 1, $"mutation {i}: error at {error.Line}:{error.Column}\n{Escape(text)}");
            }

            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{Escape(text)}\n{e.StackTrace}");
            return false;
        }
    }

    /// <summary>A copy with a few characters changed, cut, duplicated, spliced with another line, or given odd numbers and characters.</summary>
    private static string Mutate(string original, string[] corpus, Random random)
    {
        var text = new StringBuilder(original);
        int mutations = 1 + random.Next(random.Next(3) == 0 ? 3 : 1);
        for (int m = 0; m < mutations; m++)
        {
            int at = random.Next(text.Length + 1);
            switch (random.Next(10))
            {
                case 8 or 9:
                    {
                        // A piece between separators swapped for a piece of another line: still close to valid, so it reaches deep.
                        var (start, end) = Piece(text.ToString(), at);
                        string other = corpus[random.Next(corpus.Length)];
                        var (os, oe) = Piece(other, random.Next(other.Length + 1));
                        text.Remove(start, end - start).Insert(start, other[os..oe]);
                        break;
                    }

                case 0:
                    if (at < text.Length)
                    {
                        text[at] = (char)(random.Next(3) == 0 ? random.Next(0x80, 0x3000) : random.Next(0x20, 0x7f));
                    }

                    break;
                case 1:
                    text.Remove(Math.Min(at, text.Length), Math.Min(1 + random.Next(10), text.Length - Math.Min(at, text.Length)));
                    break;
                case 2:
                    {
                        int length = Math.Min(1 + random.Next(20), text.Length - Math.Min(at, text.Length));
                        string segment = text.ToString(Math.Min(at, text.Length), length);
                        text.Insert(Math.Min(at, text.Length), segment);
                        break;
                    }

                case 3:
                    {
                        string other = corpus[random.Next(corpus.Length)];
                        string head = text.ToString(0, at);
                        text.Clear().Append(head).Append(other.AsSpan(random.Next(other.Length + 1)));
                        break;
                    }

                case 4:
                    {
                        // A number replaced by a boundary or out-of-range value.
                        int digit = IndexOfDigit(text, at);
                        if (digit >= 0)
                        {
                            int end = digit;
                            while (end < text.Length && char.IsAsciiHexDigit(text[end]))
                            {
                                end++;
                            }

                            text.Remove(digit, end - digit).Insert(digit, Numbers[random.Next(Numbers.Length)]);
                        }

                        break;
                    }

                case 5:
                    text.Insert(at, random.Next(3) == 0 ? Numbers[random.Next(Numbers.Length)] : Weird[random.Next(Weird.Length)]);
                    break;
                case 6:
                    text.Insert(at, random.Next(2) == 0 ? "(" : ")");
                    break;
                default:
                    text.Insert(at, new string(Weird[random.Next(20)][0], 1 + random.Next(random.Next(10) == 0 ? 2_000 : 4)));
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>The run around <paramref name="at"/> between separators of the flow syntax.</summary>
    private static (int Start, int End) Piece(string text, int at)
    {
        const string separators = ",=:()[]/ ->.|+";
        int start = Math.Min(at, text.Length);
        while (start > 0 && !separators.Contains(text[start - 1], StringComparison.Ordinal))
        {
            start--;
        }

        int end = start;
        while (end < text.Length && !separators.Contains(text[end], StringComparison.Ordinal))
        {
            end++;
        }

        return (start, end);
    }

    private static int IndexOfDigit(StringBuilder text, int from)
    {
        for (int i = 0; i < text.Length; i++)
        {
            int at = (from + i) % text.Length;
            if (char.IsAsciiDigit(text[at]))
            {
                return at;
            }
        }

        return -1;
    }

    private static string Escape(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text.Length > 400 ? text[..400] + "..." : text)
        {
            _ = c is >= ' ' and < (char)0x7f ? sb.Append(c) : sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }

        return sb.ToString();
    }
}
