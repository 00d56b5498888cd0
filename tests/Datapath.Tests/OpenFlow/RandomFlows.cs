using System.Globalization;
using System.Text;

namespace Datapath.Tests.OpenFlow;

/// <summary>Random valid add-flows lines, every prerequisite honoured, for property tests.</summary>
internal static class RandomFlows
{
    private static readonly string[] Protocols = ["", "ip", "ipv6", "arp", "tcp", "udp", "icmp", "tcp6", "udp6", "icmp6", "sctp"];

    public static string Line(Random r, int maxTable = 4, bool forTranslation = false)
    {
        var parts = new List<string>();
        int table = r.Next(maxTable);
        if (r.Next(2) == 0 || table != 0)
        {
            parts.Add("table=" + table.ToString(CultureInfo.InvariantCulture));
        }

        if (r.Next(2) == 0)
        {
            parts.Add("priority=" + r.Next(0, 65536).ToString(CultureInfo.InvariantCulture));
        }

        if (!forTranslation && r.Next(4) == 0)
        {
            parts.Add("cookie=0x" + r.Next().ToString("x", CultureInfo.InvariantCulture));
        }

        if (!forTranslation && r.Next(5) == 0)
        {
            parts.Add("idle_timeout=" + r.Next(1, 100).ToString(CultureInfo.InvariantCulture));
        }

        string proto = Protocols[r.Next(Protocols.Length)];
        if (proto.Length > 0)
        {
            parts.Add(proto);
        }

        Maybe(r, parts, "in_port=" + r.Next(1, 4).ToString(CultureInfo.InvariantCulture));
        Maybe(r, parts, "ct_state=" + CtState(r));
        Maybe(r, parts, "reg" + r.Next(8).ToString(CultureInfo.InvariantCulture) + "=0x" + r.Next(4).ToString("x", CultureInfo.InvariantCulture) + (r.Next(2) == 0 ? "/0x3" : string.Empty));
        Maybe(r, parts, "metadata=0x" + r.Next(3).ToString("x", CultureInfo.InvariantCulture));
        Maybe(r, parts, "dl_src=02:00:00:00:00:0" + r.Next(1, 4).ToString(CultureInfo.InvariantCulture));
        Maybe(r, parts, "dl_dst=" + (r.Next(2) == 0 ? "ff:ff:ff:ff:ff:ff" : "02:00:00:00:00:0" + r.Next(1, 4).ToString(CultureInfo.InvariantCulture)));
        Maybe(r, parts, "vlan_tci=0x" + (r.Next(2) == 0 ? "0000/0x1000" : "1005/0x1fff"));
        bool v4 = proto is "ip" or "tcp" or "udp" or "icmp" or "sctp";
        bool v6 = proto is "ipv6" or "tcp6" or "udp6" or "icmp6";
        if (v4 || proto == "arp")
        {
            Maybe(r, parts, "nw_src=10.0." + r.Next(2).ToString(CultureInfo.InvariantCulture) + ".0/" + r.Next(16, 33).ToString(CultureInfo.InvariantCulture));
            Maybe(r, parts, "nw_dst=10.0.0." + r.Next(1, 4).ToString(CultureInfo.InvariantCulture));
        }

        if (v6)
        {
            Maybe(r, parts, "ipv6_src=fd00::" + r.Next(1, 4).ToString(CultureInfo.InvariantCulture));
        }

        if (v4 || v6)
        {
            Maybe(r, parts, "nw_ttl=" + r.Next(0, 3).ToString(CultureInfo.InvariantCulture));
            Maybe(r, parts, "nw_tos=" + (r.Next(3) * 4).ToString(CultureInfo.InvariantCulture));
            Maybe(r, parts, "ip_frag=" + (r.Next(2) == 0 ? "no" : "yes"));
        }

        if (proto is "tcp" or "udp" or "tcp6" or "udp6" or "sctp")
        {
            Maybe(r, parts, "tp_dst=" + r.Next(79, 82).ToString(CultureInfo.InvariantCulture));
            Maybe(r, parts, "tp_src=0x" + r.Next(0, 3).ToString("x", CultureInfo.InvariantCulture) + "/0x3");
        }

        if (proto is "tcp" or "tcp6")
        {
            Maybe(r, parts, "tcp_flags=" + (r.Next(2) == 0 ? "+syn" : "+ack-syn"));
        }

        if (proto is "icmp" or "icmp6")
        {
            Maybe(r, parts, "icmp_type=" + r.Next(0, 9).ToString(CultureInfo.InvariantCulture));
        }

        if (proto == "arp")
        {
            Maybe(r, parts, "arp_op=" + r.Next(1, 3).ToString(CultureInfo.InvariantCulture));
        }

        var sb = new StringBuilder(string.Join(",", parts));
        sb.Append(sb.Length > 0 ? " " : string.Empty).Append("actions=").Append(Actions(r, table, v4, v6, proto, forTranslation));
        return sb.ToString();
    }

    private static void Maybe(Random r, List<string> parts, string field)
    {
        if (r.Next(4) == 0)
        {
            parts.Add(field);
        }
    }

    private static string CtState(Random r)
    {
        string[] flags = ["new", "est", "rel", "rpl", "inv", "trk"];
        var sb = new StringBuilder();
        foreach (string f in flags)
        {
            int c = r.Next(4);
            if (c == 0)
            {
                sb.Append('+').Append(f);
            }
            else if (c == 1)
            {
                sb.Append('-').Append(f);
            }
        }

        return sb.Length == 0 ? "+trk" : sb.ToString();
    }

    private static string Actions(Random r, int table, bool v4, bool v6, string proto, bool forTranslation)
    {
        int n = r.Next(0, 4);
        if (n == 0)
        {
            return "drop";
        }

        var list = new List<string>();
        for (int i = 0; i < n; i++)
        {
            int pick = r.Next(16);
            switch (pick)
            {
                case 0:
                case 1:
                    list.Add("output:" + r.Next(1, 4).ToString(CultureInfo.InvariantCulture));
                    break;
                case 2:
                    list.Add("NORMAL");
                    break;
                case 3:
                    list.Add(r.Next(2) == 0 ? "FLOOD" : "IN_PORT");
                    break;
                case 4:
                    list.Add("resubmit(," + r.Next(0, 4).ToString(CultureInfo.InvariantCulture) + ")");
                    break;
                case 5:
                    list.Add("resubmit(" + r.Next(1, 4).ToString(CultureInfo.InvariantCulture) + ",)");
                    break;
                case 6 when v4 || v6:
                    list.Add(r.Next(2) == 0 ? "ct(table=" + r.Next(0, 4).ToString(CultureInfo.InvariantCulture) + ")" : "ct(commit,zone=" + r.Next(3).ToString(CultureInfo.InvariantCulture) + ")");
                    break;
                case 7:
                    list.Add("set_field:0x" + r.Next(4).ToString("x", CultureInfo.InvariantCulture) + "->reg" + r.Next(8).ToString(CultureInfo.InvariantCulture));
                    break;
                case 8:
                    list.Add("load:0x" + r.Next(2).ToString("x", CultureInfo.InvariantCulture) + "->OXM_OF_METADATA[0..1]");
                    break;
                case 9:
                    list.Add("mod_dl_src:02:00:00:00:00:0" + r.Next(1, 10).ToString(CultureInfo.InvariantCulture));
                    break;
                case 10 when v4:
                    list.Add("mod_nw_dst:10.9.9." + r.Next(1, 9).ToString(CultureInfo.InvariantCulture));
                    break;
                case 11 when v4 || v6:
                    list.Add("dec_ttl");
                    break;
                case 12 when proto is "tcp" or "udp" or "tcp6" or "udp6":
                    list.Add("mod_tp_dst:" + r.Next(1, 9).ToString(CultureInfo.InvariantCulture));
                    break;
                case 13:
                    list.Add(r.Next(3) switch { 0 => "push_vlan:0x8100", 1 => "pop_vlan", _ => "mod_vlan_vid:" + r.Next(1, 5).ToString(CultureInfo.InvariantCulture) });
                    break;
                case 14:
                    list.Add("ct_clear");
                    break;
                case 15 when !forTranslation:
                    list.Add("note:0a.0b");
                    break;
            }
        }

        if (r.Next(4) == 0 && table < 3)
        {
            list.Add("goto_table:" + (table + 1).ToString(CultureInfo.InvariantCulture));
        }

        return list.Count == 0 ? "drop" : string.Join(",", list);
    }
}
