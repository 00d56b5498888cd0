using System.Globalization;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;
using Host.Commands;
using Host.Tests.Support;

namespace Host.Tests.Commands;

public sealed class ParsePcapCommandTests : IDisposable
{
    private static readonly byte[] Host1Mac = [0x02, 0, 0, 0, 0, 0x01];
    private static readonly byte[] Host2Mac = [0x02, 0, 0, 0, 0, 0x02];

    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string> Captures() => [.. TestData.AllCapturePcaps().Select(p => Path.GetFileName(p))];

    [Theory]
    [MemberData(nameof(Captures))]
    public void Each_frame_prints_one_numbered_line_with_its_exact_flow(string capture)
    {
        string path = TestData.Capture(capture);
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = ParsePcapCommand.Run(new FileInfo(path), output, error);

        Assert.Equal(0, exit);
        Assert.Empty(error.ToString());
        string[] lines = Lines(output);
        List<(string Flow, uint Port)> expected = ExpectedFlows(path);
        Assert.Equal(expected.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{i + 1}: {expected[i].Flow}"), lines[i]);
        }

        Assert.DoesNotContain(lines, l => l.Contains("malformed", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Frames_get_their_port_from_their_source_MAC(string capture)
    {
        string path = TestData.Capture(capture);
        var output = new StringWriter();

        ParsePcapCommand.Run(new FileInfo(path), output, new StringWriter());

        string[] lines = Lines(output);
        List<(string Flow, uint Port)> expected = ExpectedFlows(path);
        Assert.Equal(expected.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            Assert.Contains($"in_port({expected[i].Port})", lines[i], StringComparison.Ordinal);
        }

        // Every capture holds both directions (see captures/README.md).
        Assert.Contains(expected, e => e.Port == 1);
        Assert.Contains(expected, e => e.Port == 2);
    }

    [Fact]
    public void The_command_line_runs_parse_pcap_with_a_file_argument()
    {
        string path = TestData.Capture("icmp.pcap");
        var (direct, viaMain, error) = (new StringWriter(), new StringWriter(), new StringWriter());
        ParsePcapCommand.Run(new FileInfo(path), direct, new StringWriter());

        int exit = Program.Run(["parse-pcap", path], viaMain, error);

        Assert.Equal(0, exit);
        Assert.Empty(error.ToString());
        Assert.Equal(direct.ToString(), viaMain.ToString());
        Assert.NotEmpty(Lines(viaMain));
    }

    [Fact]
    public void A_pcapng_file_is_refused_naming_the_file()
    {
        // A pcapng Section Header Block: type 0x0A0D0D0A, length 28, byte-order magic, version 1.0, section length -1.
        byte[] pcapng = Convert.FromHexString("0A0D0D0A1C0000004D3C2B1A01000000FFFFFFFFFFFFFFFF1C000000");
        string path = _scratch.Write("capture.pcapng", pcapng);

        AssertFailsNaming(path);
    }

    [Fact]
    public void A_missing_file_is_refused_naming_the_file()
    {
        string path = Path.Combine(_scratch.Path, "absent.pcap");

        AssertFailsNaming(path);
    }

    [Fact]
    public void A_truncated_file_is_refused_naming_the_file()
    {
        byte[] whole = File.ReadAllBytes(TestData.Capture("udp-dns.pcap"));
        string path = _scratch.Write("cut.pcap", whole[..(whole.Length - 7)]);

        var error = AssertFailsNaming(path);

        Assert.Contains("truncated", error, StringComparison.Ordinal);
    }

    /// <summary>The flow text and port of every frame, from the reader and extractor directly.</summary>
    private static List<(string Flow, uint Port)> ExpectedFlows(string path)
    {
        var flows = new List<(string, uint)>();
        var stats = new ExtractionStats();
        var key = default(FlowKey);
        using var reader = PcapReader.Open(path);
        while (reader.TryReadNext(out _))
        {
            ReadOnlySpan<byte> frame = reader.CurrentFrame;
            ReadOnlySpan<byte> source = frame[6..12];
            uint port = source.SequenceEqual(Host1Mac) ? 1u : source.SequenceEqual(Host2Mac) ? 2u : 0u;
            var metadata = default(PacketMetadata);
            metadata.Reset(port);
            FlowExtractor.Extract(frame, in metadata, ref key, stats, out _, out _);
            flows.Add((FlowFormatter.FormatExact(in key), port));
        }

        Assert.Equal(0, stats.Total);
        return flows;
    }

    private static string AssertFailsNaming(string path)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = ParsePcapCommand.Run(new FileInfo(path), output, error);

        Assert.Equal(1, exit);
        string message = error.ToString();
        Assert.StartsWith("parse-pcap: ", message, StringComparison.Ordinal);
        Assert.Contains(path, message, StringComparison.Ordinal);
        return message;
    }

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}
