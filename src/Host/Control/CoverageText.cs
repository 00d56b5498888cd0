using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Host.Control;

/// <summary>
/// ovs-appctl coverage/show as Open vSwitch prints it (lib/coverage.c coverage_read): a header with
/// a hash of which events are hit, then for each event hit so far its average rate over the last
/// 5-second interval, the last minute and the last hour, and its total; then how many never were.
/// As there, an average counts the intervals not yet lived as zero.
/// </summary>
internal static class CoverageText
{
    private const int IntervalsPerMinute = 12;
    private const int IntervalsPerHour = 720;

    /// <param name="history">Readings one interval apart, oldest first (<see cref="DatapathSampler.History"/>); empty: nothing read yet.</param>
    public static string Format(IReadOnlyList<DatapathSample> history)
    {
        var latest = history.Count > 0 ? history[^1].Events : new Dictionary<string, long>();
        var hit = latest.Where(e => e.Value > 0).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Event coverage, avg rate over last: {(int)DatapathSampler.Interval.TotalSeconds} seconds, last minute, last hour,  hash={Hash(hit):x8}:\n");
        foreach (var (name, total) in hit)
        {
            double interval = (total - Back(history, 1, name)) / DatapathSampler.Interval.TotalSeconds;
            double minute = (total - Back(history, IntervalsPerMinute, name)) / 60.0;
            double hour = (total - Back(history, IntervalsPerHour, name)) / 3600.0;
            sb.Append(CultureInfo.InvariantCulture, $"{name,-24} {interval,5:F1}/sec {minute,9:F3}/sec {hour,13:F4}/sec   total: {total}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"{latest.Count - hit.Count} events never hit\n");
        return sb.ToString();
    }

    /// <summary>The event's total <paramref name="intervals"/> readings before the latest; zero before the first.</summary>
    private static long Back(IReadOnlyList<DatapathSample> history, int intervals, string name) =>
        history.Count > intervals ? history[^(intervals + 1)].Events.GetValueOrDefault(name) : 0;

    /// <summary>Changes when the set of hit events or their order by count changes (coverage_hash's purpose).</summary>
    private static uint Hash(List<KeyValuePair<string, long>> hit)
    {
        var names = string.Join(',', hit.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key));
        return XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(names));
    }
}
