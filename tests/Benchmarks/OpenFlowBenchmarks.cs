using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Datapath.Flow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;

namespace Benchmarks;

/// <summary>
/// The OpenFlow slow path: parsing and installing a 10,000-line per-address ACL (target: well
/// under a second), and the cost of one upcall's translation on the reference firewall, for the
/// first pass (ct, recirc) and the recirculated pass of an established connection.
/// </summary>
[MemoryDiagnoser]
public class OpenFlowBenchmarks
{
    private const string FirewallFlows =
        "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)\n" +
        "table=0, priority=10,arp actions=NORMAL\n" +
        "table=0, priority=1 actions=drop\n" +
        "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2\n" +
        "table=1, ct_state=+new+trk,ip,in_port=2 actions=drop\n" +
        "table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2\n" +
        "table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1\n";

    private string _acl = string.Empty;
    private Translator _firewall = null!;
    private FlowKey _untracked;
    private FlowKey _established;

    [GlobalSetup]
    public void Setup()
    {
        _acl = AclFile(10_000);
        var tables = new OpenFlowTables();
        tables.AddFlows(FirewallFlows, "firewall.flows");
        _firewall = new Translator(tables, new RecircRegistry(), [1, 2]);
        _untracked = Tcp(0, CtState.None);
        var first = _firewall.Translate(in _untracked);
        _established = Tcp(first.Actions[1].RecircId, CtState.Established | CtState.Tracked);
    }

    /// <summary>A realistic per-address ACL: allow or drop TCP/UDP services per source host, across tables 0 and 1.</summary>
    public static string AclFile(int lines)
    {
        var sb = new StringBuilder(lines * 96);
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < lines; i++)
        {
            int host = i / 4;
            string proto = (i & 1) == 0 ? "tcp" : "udp";
            int port = (i & 2) == 0 ? 443 : 53;
            sb.Append(inv, $"table={i % 2},priority={1000 + (i % 100)},{proto},in_port={1 + (i % 2)},nw_src=10.{(host >> 16) & 255}.{(host >> 8) & 255}.{host & 255},nw_dst=192.168.0.0/16,tp_dst={port} ");
            sb.Append((i % 3) == 0 ? "actions=drop\n" : "actions=ct(commit,zone=7),output:2\n");
        }

        return sb.ToString();
    }

    [Benchmark]
    public int ParseAndInstallAcl10k()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(_acl, "acl.flows");
        return tables.Count;
    }

    [Benchmark]
    public int TranslateFirewallFirstPass()
    {
        var result = _firewall.Translate(in _untracked);
        _firewall.Recirc.ReleaseAll(result.Actions);
        return result.Actions.Count;
    }

    [Benchmark]
    public int TranslateFirewallEstablished() => _firewall.Translate(in _established).Actions.Count;

    private static FlowKey Tcp(uint recirc, CtState state)
    {
        var k = default(FlowKey);
        k.RecircId = recirc;
        k.InPort = 1;
        k.CtState = state;
        k.EthSrc = 0x02_00_00_00_00_01;
        k.EthDst = 0x02_00_00_00_00_02;
        k.EthType = EtherTypes.Ipv4;
        k.NwProto = IpProtocols.Tcp;
        k.NwTtl = 64;
        k.NwSrc = 0x0A000001;
        k.NwDst = 0x0A000002;
        k.TpSrc = 40000;
        k.TpDst = 8080;
        return k;
    }
}
