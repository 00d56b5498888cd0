namespace Datapath.Actions;

/// <summary>
/// A compiled, immutable list of datapath actions. Executing it allocates nothing:
/// the actions are structs in one array built once when the flow is installed.
/// </summary>
public sealed class ActionList
{
    private readonly DatapathAction[] _actions;

    public ActionList(ReadOnlySpan<DatapathAction> actions)
    {
        _actions = actions.ToArray();
    }

    public static ActionList Empty { get; } = new([]);

    public ReadOnlySpan<DatapathAction> Actions => _actions;

    public int Count => _actions.Length;

    public DatapathAction this[int index] => _actions[index];
}
