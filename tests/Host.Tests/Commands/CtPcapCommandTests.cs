using Datapath.Tests.Support;
using Host.Commands;

namespace Host.Tests.Commands;

/// <summary>
/// The acceptance of the conntrack issue: `ct-pcap NAME.pcap` prints exactly what Open vSwitch's
/// `ovstest test-conntrack pcap NAME.pcap 1` printed (captures/expected/NAME.ct), byte for byte.
/// </summary>
public class CtPcapCommandTests
{
    public static TheoryData<string> Captures()
    {
        var data = new TheoryData<string>();
        foreach (string pcap in TestData.AllCapturePcaps())
        {
            data.Add(Path.GetFileNameWithoutExtension(pcap));
        }

        return data;
    }

    [Fact]
    public void All_nine_captures_have_an_expected_ct_file()
    {
        var names = TestData.AllCapturePcaps().Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.Equal(9, names.Count);
        Assert.All(names, name => Assert.True(File.Exists(ExpectedPath(name!)), name));
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Output_is_byte_identical_to_Open_vSwitch(string name)
    {
        var (rc, output, error) = Run(name, 1);

        Assert.Equal(0, rc);
        Assert.Equal(string.Empty, error);
        Assert.Equal(File.ReadAllText(ExpectedPath(name)), output);
    }

    [Theory]
    [InlineData("tcp-http", 32)]
    [InlineData("many-conns", 5)]
    [InlineData("icmp", 32)]
    public void Batching_does_not_change_the_states(string name, int batch)
    {
        var (rc, output, _) = Run(name, batch);

        Assert.Equal(0, rc);
        Assert.Equal(File.ReadAllText(ExpectedPath(name)), output);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    public void A_batch_size_outside_1_to_32_is_refused(int batch)
    {
        var (rc, output, error) = Run("icmp", batch);

        Assert.Equal(1, rc);
        Assert.Equal(string.Empty, output);
        Assert.Contains("batch_size", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_an_error_not_a_crash()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int rc = CtPcapCommand.Run(new FileInfo(Path.Combine(Path.GetTempPath(), "no-such-capture.pcap")), 1, output, error);

        Assert.Equal(1, rc);
        Assert.StartsWith("ct-pcap: ", error.ToString(), StringComparison.Ordinal);
    }

    private static string ExpectedPath(string name) => Path.Combine(TestData.Captures, "expected", name + ".ct");

    private static (int Rc, string Output, string Error) Run(string name, int batch)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter();
        int rc = CtPcapCommand.Run(new FileInfo(TestData.Capture(name + ".pcap")), batch, output, error);
        return (rc, output.ToString(), error.ToString());
    }
}
