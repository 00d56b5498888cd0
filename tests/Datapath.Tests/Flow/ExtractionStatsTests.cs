using Datapath.Flow;

namespace Datapath.Tests.Flow;

public sealed class ExtractionStatsTests
{
    [Fact]
    public void Counts_per_reason_sum_to_the_total_and_clear_resets_them()
    {
        var stats = new ExtractionStats();
        stats.Record(MalformedReason.TruncatedTcp);
        stats.Record(MalformedReason.TruncatedTcp);
        stats.Record(MalformedReason.BadNdOptions);

        Assert.Equal(2, stats[MalformedReason.TruncatedTcp]);
        Assert.Equal(1, stats[MalformedReason.BadNdOptions]);
        Assert.Equal(0, stats[MalformedReason.TruncatedEthernet]);
        Assert.Equal(3, stats.Total);

        stats.Clear();
        Assert.Equal(0, stats.Total);
        Assert.Equal(0, stats[MalformedReason.TruncatedTcp]);
    }

    [Fact]
    public void Add_sums_every_reason_of_another_instance()
    {
        var a = new ExtractionStats();
        var b = new ExtractionStats();
        a.Record(MalformedReason.TruncatedIpv4);
        b.Record(MalformedReason.TruncatedIpv4);
        b.Record(MalformedReason.BadIpv6Extension);

        a.Add(b);
        Assert.Equal(2, a[MalformedReason.TruncatedIpv4]);
        Assert.Equal(1, a[MalformedReason.BadIpv6Extension]);
        Assert.Equal(3, a.Total);
        Assert.Equal(2, b.Total);
    }

    [Fact]
    public void Every_reason_has_its_own_counter()
    {
        var stats = new ExtractionStats();
        foreach (var reason in Enum.GetValues<MalformedReason>())
        {
            stats.Record(reason);
            Assert.Equal(1, stats[reason]);
        }

        Assert.Equal(Enum.GetValues<MalformedReason>().Length, stats.Total);
    }
}
