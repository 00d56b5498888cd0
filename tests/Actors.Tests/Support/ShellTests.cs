using Actors.Tests.Support.Lab;

namespace Actors.Tests.Support;

/// <summary>The lab's command runner: a command past its limit is killed and says so; one that ends in time does not.</summary>
public sealed class ShellTests
{
    [Fact]
    public async Task A_command_that_ends_within_its_limit_succeeds_with_its_output()
    {
        var result = await Shell.RunAsync(TimeSpan.FromSeconds(60), "sh", "-c", "echo out; echo err >&2");

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("out", result.Output.Trim());
        Assert.Equal("err", result.Error.Trim());
    }

    [Fact]
    public async Task A_command_past_its_limit_is_killed_and_reported_as_timed_out()
    {
        var result = await Shell.RunAsync(TimeSpan.FromMilliseconds(200), "sh", "-c", "echo started; exec sleep 600");

        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.Contains("(timed out)", result.ToString(), StringComparison.Ordinal);
    }
}
