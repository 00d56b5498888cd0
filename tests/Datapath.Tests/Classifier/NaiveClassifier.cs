using Datapath.Caches;
using Datapath.Flow;

namespace Datapath.Tests.Classifier;

/// <summary>The reference the classifier is checked against: a list scanned linearly.</summary>
internal sealed class NaiveClassifier
{
    private readonly List<Megaflow> _flows = [];

    public IReadOnlyList<Megaflow> Flows => _flows;

    public int Count => _flows.Count;

    public void Insert(Megaflow flow) => _flows.Add(flow);

    public bool Remove(Megaflow flow) => _flows.Remove(flow);

    /// <summary>The one live flow matching <paramref name="key"/>; fails if rules overlap, which the generator must prevent.</summary>
    public Megaflow? Lookup(in FlowKey key)
    {
        Megaflow? found = null;
        foreach (Megaflow flow in _flows)
        {
            if (!flow.IsDead && flow.Matches(in key))
            {
                Assert.Null(found);
                found = flow;
            }
        }

        return found;
    }

    /// <summary>True when some key could match both rules: they agree on every bit both masks select.</summary>
    public static bool Intersect(Megaflow a, Megaflow b)
    {
        for (int i = 0; i < FlowKey.WordCount; i++)
        {
            if (((a.Key[i] ^ b.Key[i]) & a.Mask[i] & b.Mask[i]) != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when <paramref name="candidate"/> intersects no installed live flow. Dead flows may be
    /// overlapped, as when a datapath kills a flow and installs its replacement before removing it.
    /// </summary>
    public bool Admits(Megaflow candidate)
    {
        foreach (Megaflow flow in _flows)
        {
            if (!flow.IsDead && Intersect(flow, candidate))
            {
                return false;
            }
        }

        return true;
    }

    public int DistinctMasks()
    {
        var masks = new HashSet<FlowKey>();
        foreach (Megaflow flow in _flows)
        {
            masks.Add(flow.Mask);
        }

        return masks.Count;
    }
}
