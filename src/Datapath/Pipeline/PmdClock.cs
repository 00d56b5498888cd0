namespace Datapath.Pipeline;

/// <summary>
/// The owner's clock as the core's stages see it during one call: set when a call enters the core
/// (a batch's time, or a conntrack answer's), read by the stages that stamp or credit by time.
/// </summary>
internal sealed class PmdClock
{
    public long NowMs { get; set; }
}
