namespace Datapath.OpenFlow.Normal;

/// <summary>
/// The MAC learning table of one bridge for the NORMAL action (the analogue of Open vSwitch's
/// lib/mac-learning.c): (VLAN, MAC) to port, with aging.
///
/// <para>Ownership and invalidation: the table belongs to the bridge's translator and is mutated
/// during translation (learning the source of each packet that reaches NORMAL). A megaflow built
/// from a NORMAL decision stays right only while the answer it used stays the same, so every
/// change of an answer (a new address, an address that moved to another port, an entry aged out
/// by <see cref="Expire"/>) increments <see cref="Generation"/>. Whoever caches translations
/// (the PMD's megaflows, through the actor layer) must revalidate the megaflows whose translation
/// used NORMAL (<see cref="Translation.TranslationResult.UsedMacLearning"/>) when the generation
/// moves past the one they were built at. Refreshing an entry on the same port changes nothing.</para>
/// </summary>
public sealed class MacLearningTable
{
    /// <summary>Open vSwitch's default MAC aging time.</summary>
    public static readonly TimeSpan DefaultAging = TimeSpan.FromSeconds(300);

    private readonly Dictionary<(ushort Vlan, ulong Mac), Entry> _entries = [];
    private readonly TimeProvider _clock;

    public MacLearningTable(TimeSpan? aging = null, TimeProvider? clock = null)
    {
        Aging = aging ?? DefaultAging;
        _clock = clock ?? TimeProvider.System;
    }

    public TimeSpan Aging { get; }

    /// <summary>Changes whenever some lookup's answer changes (see the type's remarks).</summary>
    public long Generation { get; private set; }

    public int Count => _entries.Count;

    /// <summary>Records that <paramref name="mac"/> on <paramref name="vlan"/> was seen on <paramref name="port"/>.</summary>
    /// <returns>True when this changed an answer (new entry, or the address moved).</returns>
    public bool Learn(ushort vlan, ulong mac, uint port)
    {
        var now = _clock.GetUtcNow();
        if (_entries.TryGetValue((vlan, mac), out var entry) && entry.Port == port && now - entry.LastSeen < Aging)
        {
            entry.LastSeen = now;
            return false;
        }

        _entries[(vlan, mac)] = new Entry { Port = port, LastSeen = now };
        Generation++;
        return true;
    }

    /// <summary>The port <paramref name="mac"/> was learned on, unless unknown or aged.</summary>
    public bool TryLookup(ushort vlan, ulong mac, out uint port)
    {
        if (_entries.TryGetValue((vlan, mac), out var entry) && _clock.GetUtcNow() - entry.LastSeen < Aging)
        {
            port = entry.Port;
            return true;
        }

        port = 0;
        return false;
    }

    /// <summary>Removes aged entries; returns how many went.</summary>
    public int Expire()
    {
        var now = _clock.GetUtcNow();
        var aged = new List<(ushort, ulong)>();
        foreach (var (key, entry) in _entries)
        {
            if (now - entry.LastSeen >= Aging)
            {
                aged.Add(key);
            }
        }

        foreach (var key in aged)
        {
            _entries.Remove(key);
        }

        if (aged.Count > 0)
        {
            Generation++;
        }

        return aged.Count;
    }

    /// <summary>Forgets every address learned on <paramref name="port"/> (the port left the bridge).</summary>
    public void FlushPort(uint port)
    {
        var gone = new List<(ushort, ulong)>();
        foreach (var (key, entry) in _entries)
        {
            if (entry.Port == port)
            {
                gone.Add(key);
            }
        }

        foreach (var key in gone)
        {
            _entries.Remove(key);
        }

        if (gone.Count > 0)
        {
            Generation++;
        }
    }

    private sealed class Entry
    {
        public uint Port;
        public DateTimeOffset LastSeen;
    }
}
