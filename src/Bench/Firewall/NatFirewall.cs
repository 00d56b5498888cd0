using Traffic;

namespace Bench.Firewall;

/// <summary>
/// The NAT cell of the bench (issue 13): the reference firewall with every outbound connection
/// source-translated to <see cref="SnatAddress"/> (a gateway's SNAT), and ct(nat) on both
/// directions so established packets are translated (out) and untranslated (back). The traffic
/// gives each client a port of its own (<see cref="EstablishedStreams.SnatAddress"/>), so the
/// translation keeps every port and the server answers the translated side.
/// </summary>
internal static class NatFirewall
{
    /// <summary>192.0.2.100, the NAT address of the NAT scenarios (tests/data/captures/nat).</summary>
    public const uint SnatAddress = 0xC0_00_02_64;

    public const string Name = "snat";

    /// <summary>The flow table (ovs-ofctl add-flows syntax).</summary>
    public const string Flows = """
        table=0, priority=100,ct_state=-trk,ip actions=ct(table=1,nat)
        table=0, priority=10,arp actions=NORMAL
        table=0, priority=1 actions=drop
        table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit,nat(src=192.0.2.100)),output:2
        table=1, ct_state=+new+trk,ip,in_port=2 actions=drop
        table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2
        table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1
        """;
}
