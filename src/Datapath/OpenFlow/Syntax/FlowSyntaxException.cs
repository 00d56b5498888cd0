namespace Datapath.OpenFlow.Syntax;

/// <summary>One bad line: where it is and what was expected there.</summary>
public sealed record FlowSyntaxError(string File, int Line, int Column, string Message)
{
    /// <summary>"FILE:LINE:COLUMN: MESSAGE", the shape compilers use.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {Message}");
}

/// <summary>A flow file or flow text had bad lines; nothing of it was installed.</summary>
public sealed class FlowSyntaxException : Exception
{
    public FlowSyntaxException(IReadOnlyList<FlowSyntaxError> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public FlowSyntaxException()
        : this([])
    {
    }

    public FlowSyntaxException(string message)
        : base(message)
    {
        Errors = [];
    }

    public FlowSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public IReadOnlyList<FlowSyntaxError> Errors { get; }
}

/// <summary>Thrown inside the parser at the first problem of a line; carries the column (0-based offset in the line).</summary>
internal sealed class LineSyntaxException(int offset, string message) : Exception(message)
{
    public int Offset { get; } = offset;
}
