namespace Datapath.OpenFlow.Trace;

/// <summary>Kinds of trace lines (Open vSwitch's enum oftrace_node_type).</summary>
public enum TraceNodeType : byte
{
    Bridge,
    Table,
    Thaw,
    Action,
    Detail,
    Warn,
    Error,
}

/// <summary>One line of a trace and the lines nested under it (Open vSwitch's struct oftrace_node).</summary>
public sealed class TraceNode(TraceNodeType type, string text)
{
    public TraceNodeType Type { get; } = type;

    public string Text { get; } = text;

    public List<TraceNode> Children { get; } = [];

    /// <summary>Action, detail, warning and error lines never have children.</summary>
    public bool IsTerminal => Type is TraceNodeType.Action or TraceNodeType.Detail or TraceNodeType.Warn or TraceNodeType.Error;
}

/// <summary>
/// Collects trace lines while a translation runs (the analogue of xlate_in's trace list). The
/// translator appends to <see cref="Current"/> and makes a table's node current while it runs
/// that table's actions, so resubmits nest as they do in Open vSwitch.
/// </summary>
public sealed class TraceRecorder
{
    public TraceRecorder(string bridge)
    {
        var root = new TraceNode(TraceNodeType.Bridge, $"bridge(\"{bridge}\")");
        Roots.Add(root);
        Current = root.Children;
    }

    public List<TraceNode> Roots { get; } = [];

    public List<TraceNode> Current { get; set; }

    public TraceNode Report(TraceNodeType type, string text)
    {
        var node = new TraceNode(type, text);
        Current.Add(node);
        return node;
    }
}
