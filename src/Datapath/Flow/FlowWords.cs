using System.Runtime.CompilerServices;

namespace Datapath.Flow;

/// <summary>Fixed inline storage of a flow key or mask: <see cref="FlowKey.WordCount"/> 64-bit words, no heap.</summary>
[InlineArray(FlowKey.WordCount)]
public struct FlowWords
{
    private ulong _element0;
}
