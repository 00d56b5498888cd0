using Datapath.Caches;

namespace Datapath.Pipeline;

/// <summary>Told when the pipeline installs a combined flow, so that the connection's conntrack owner can be asked to report when it leaves the established state.</summary>
internal interface IShortcutObserver
{
    void Installed(Shortcut shortcut);
}
