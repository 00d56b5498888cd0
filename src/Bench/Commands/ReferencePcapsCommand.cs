using System.CommandLine;
using Bench.Firewall;
using Bench.Reference;
using Traffic;

namespace Bench.Commands;

/// <summary>
/// `reference-pcaps`: writes the bench's UDP traffic of N connections as the two captures Open
/// vSwitch with DPDK loops in bench/parity.py and bench/nat_parity.py (<see cref="ReferencePcaps"/>);
/// with --nat snat the server's frames address the translated side.
/// </summary>
internal static class ReferencePcapsCommand
{
    public static Command Create()
    {
        var connections = new Option<int>("--connections") { Description = "Bidirectional UDP connections (one frame per connection and direction).", DefaultValueFactory = _ => 100 };
        var nat = new Option<string?>("--nat") { Description = "snat: the clients are behind the SNAT of bench --nat snat, so the server answers the translated address." };
        nat.AcceptOnlyFromAmong(NatFirewall.Name);
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for a2b_N.pcap (port 1's input) and b2a_N.pcap (port 2's).", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var command = new Command("reference-pcaps", "Write the bench's UDP traffic as captures for Open vSwitch with DPDK (net_pcap ports).")
        {
            connections, nat, outDir,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            bool snat = parse.GetValue(nat) is not null;
            int max = snat ? Math.Min(EstablishedStreams.MaxSnatConnections, ReferencePcaps.MaxConnections) : ReferencePcaps.MaxConnections;
            int count = parse.GetValue(connections);
            if (count < 1 || count > max)
            {
                error.WriteLine($"reference-pcaps: --connections must be 1 to {max}{(snat ? " with --nat (one client port each)" : string.Empty)}");
                return 2;
            }

            try
            {
                var (clients, server) = ReferencePcaps.Write(parse.GetValue(outDir)!.FullName, count, snat ? NatFirewall.SnatAddress : null);
                output.WriteLine(clients);
                output.WriteLine(server);
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine("reference-pcaps: " + e.Message);
                return 1;
            }
        });
        return command;
    }
}
