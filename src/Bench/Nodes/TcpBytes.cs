using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Bench.Nodes;

/// <summary>
/// Bytes carried so far by the TCP connections between two local ports (Akka.Remote's associations
/// between two bench processes on 127.0.0.1), as the kernel counts them: the sum of bytes_received
/// over both ends of every established connection from or to either port (`ss -tin`, iproute2), so each
/// byte is counted once, in whichever direction it went. Payload only: no TCP/IP headers. Null when `ss`
/// cannot be run; a bench then says the bytes are unknown.
/// </summary>
internal static partial class TcpBytes
{
    public static long? Between(int portA, int portB)
    {
        var start = new ProcessStartInfo("ss") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "-tinH", "state", "established", $"( sport = :{portA} or dport = :{portA} or sport = :{portB} or dport = :{portB} )" })
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var ss = Process.Start(start);
            if (ss is null)
            {
                return null;
            }

            string text = ss.StandardOutput.ReadToEnd();
            ss.WaitForExit();
            return ss.ExitCode != 0 ? null : BytesReceived().Matches(text).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    [GeneratedRegex(@"bytes_received:(\d+)")]
    private static partial Regex BytesReceived();
}
