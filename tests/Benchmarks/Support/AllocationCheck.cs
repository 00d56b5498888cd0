using Datapath.Bypass;

namespace Benchmarks.Support;

/// <summary>
/// A quick, exact check of the 0-bytes-per-operation budget without a benchmark run: sets up each
/// benchmark, warms it, then counts the bytes this thread allocates over many invocations.
/// BenchmarkDotNet's Allocated column rounds per operation; this one does not.
/// </summary>
internal static class AllocationCheck
{
    private const int Warmup = 2_000;
    private const int Invocations = 20_000;

    /// <returns>The number of benchmarks that allocated.</returns>
    public static int Run(TextWriter output)
    {
        int failures = 0;

        var extraction = new ExtractionBenchmarks();
        extraction.Setup();
        failures += Measure(output, "Extraction.Udp4", () => extraction.Udp4());
        failures += Measure(output, "Extraction.Tcp4", () => extraction.Tcp4());
        failures += Measure(output, "Extraction.Tcp6", () => extraction.Tcp6());

        var emc = new ExactMatchCacheBenchmarks();
        emc.Setup();
        failures += Measure(output, "Emc.HashAndLookup", () => emc.HashAndLookup());
        failures += Measure(output, "Emc.HashOnly", () => emc.HashOnly());

        foreach (int subtables in new[] { 1, 8, 32 })
        {
            var classifier = new ClassifierBenchmarks { Subtables = subtables };
            classifier.Setup();
            failures += Measure(output, $"Classifier({subtables}).LookupBatchSpread", () => classifier.LookupBatchSpread());
            failures += Measure(output, $"Classifier({subtables}).LookupBatchLastRanked", () => classifier.LookupBatchLastRanked());
            failures += Measure(output, $"Classifier({subtables}).LookupSpread", () => classifier.LookupSpread());
            failures += Measure(output, $"Classifier({subtables}).LookupLastRanked", () => classifier.LookupLastRanked());
        }

        var actions = new ActionBenchmarks();
        actions.Setup();
        failures += Measure(output, "Actions.OutputOnePort", () => actions.OutputOnePort());
        failures += Measure(output, "Actions.SetIpv4Source", () => actions.SetIpv4Source());
        failures += Measure(output, "Actions.SetTcpSourcePort", () => actions.SetTcpSourcePort());

        foreach (int megaflows in new[] { 1, 32 })
        {
            var pipeline = new PipelineBenchmarks { Megaflows = megaflows };
            pipeline.Setup();
            failures += Measure(output, $"Pipeline({megaflows}).EmcHit", () => pipeline.EmcHit());
            failures += Measure(output, $"Pipeline({megaflows}).MegaflowOnly", () => pipeline.MegaflowOnly());
            failures += Measure(output, $"Pipeline({megaflows}).RefillOnly", () => pipeline.RefillOnly());
        }

        var conntrack = new ConntrackSingleConnectionBenchmark();
        conntrack.Setup();
        failures += Measure(output, "Conntrack.ParseAndExecuteBatchOf32", () => conntrack.ParseAndExecuteBatchOf32());

        var million = new ConntrackMillionConnectionsBenchmark();
        million.Setup();
        failures += Measure(output, "ConntrackMillion.RandomEstablishedBatchOf32", () => million.RandomEstablishedBatchOf32());

        // OpenFlowBenchmarks are left out: translation is the slow path and allocates by design.
        foreach (int connections in new[] { 1, 100, 10_000, 1_000_000 })
        {
            foreach (var mode in Enum.GetValues<BypassMode>())
            {
                var firewall = new FirewallBypassBenchmarks { Connections = connections, Mode = mode };
                firewall.Setup();
                failures += Measure(output, $"FirewallBypass({connections}, {mode}).Process", () => firewall.Process());
            }
        }

        output.WriteLine(failures == 0 ? "All benchmarks allocate 0 bytes per invocation." : $"{failures} benchmark(s) allocate.");
        return failures;
    }

    private static int Measure(TextWriter output, string name, Action invoke)
    {
        for (int i = 0; i < Warmup; i++)
        {
            invoke();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Invocations; i++)
        {
            invoke();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{name,-45} {allocated,8} B over {Invocations} invocations");
        return allocated == 0 ? 0 : 1;
    }
}
