using Datapath.Tests.Support;

namespace Datapath.Tests.OpenFlow.Wire;

/// <summary>
/// Real OpenFlow conversations (tests/data/openflow: Debian's ovs-ofctl 3.1 and ovs-testcontroller
/// talking to Open vSwitch 3.1, captured with tcpdump; its README says how): each message with its
/// direction, in order, connection after connection (each starts with a hello).
/// </summary>
public static class OpenFlowCorpus
{
    private static readonly Lazy<IReadOnlyList<(bool ToSwitch, byte[] Message)>> All = new(() =>
        Read("messages.txt").Concat(Read(ControllerFile)).ToArray());

    // In this capture the switch was the client (it connected to the controller's port): c2s is what the switch sent.
    private const string ControllerFile = "controller-messages.txt";

    public static IReadOnlyList<(bool ToSwitch, byte[] Message)> Messages => All.Value;

    /// <summary>What clients sent the switch, in order.</summary>
    public static IEnumerable<byte[]> Requests(string file = "messages.txt") =>
        Read(file).Where(m => m.ToSwitch).Select(m => m.Message);

    private static IEnumerable<(bool ToSwitch, byte[] Message)> Read(string file)
    {
        foreach (string line in File.ReadLines(Path.Combine(TestData.Root, "openflow", file)))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2)
            {
                yield return ((parts[0] == "c2s") != (file == ControllerFile), Convert.FromHexString(parts[1]));
            }
        }
    }
}
