using System.Reflection;
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

    /// <summary>The flow table (ovs-ofctl add-flows syntax): bench/flows_ct_snat.txt, embedded, the file Open vSwitch is given too.</summary>
    public static string Flows { get; } = Resource("flows_ct_snat.txt");

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded {name} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
