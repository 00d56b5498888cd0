using Actors.Ports;

namespace Host.Commands;

/// <summary>One capture of a replay: its frames, and where its verdict lines go once it has run.</summary>
internal sealed record ReplayCapture(string Name, IReadOnlyList<ReplayFrame> Frames, Func<IReadOnlyList<string>, Task> WriteVerdicts);
