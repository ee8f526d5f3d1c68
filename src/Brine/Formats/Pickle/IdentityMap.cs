using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Brine.Formats.Pickle;

/// <summary>
/// Object → memo index by reference identity, for the direct object pickler: open addressing over one array of
/// (key, value) entries, one probe sequence per object (find, or add when absent). On a million records a
/// <c>Dictionary</c> with <see cref="ReferenceEqualityComparer"/> spent a seventh of the dump in its lookups; what is
/// left is mostly the cache miss of each probe, which <see cref="Prefetch"/> lets a caller start early.
/// </summary>
sealed class IdentityMap
{
    struct Entry
    {
        public object? Key;
        public int Value;
    }

    const int InitialSize = 1024;
    Entry[] _entries = new Entry[InitialSize];
    int _count;

    public int Count => _count;

    static int Slot(object key, int mask) => (int)((uint)RuntimeHelpers.GetHashCode(key) * 0x9E3779B1u >> 7) & mask;

    /// <summary>The index recorded for <paramref name="key"/>, or -1 after recording <paramref name="value"/> for it.</summary>
    public int GetOrAdd(object key, int value)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        int i = Slot(key, mask);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key is null)
            {
                e.Key = key;
                e.Value = value;
                if (++_count * 2 > entries.Length) Grow(entries.Length * 4);   // fewer rehashes of a growing graph
                return -1;
            }
            if (ReferenceEquals(e.Key, key)) return e.Value;
            i = (i + 1) & mask;
        }
    }

    public bool TryGetValue(object key, out int value)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        int i = Slot(key, mask);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key is null) { value = 0; return false; }
            if (ReferenceEquals(e.Key, key)) { value = e.Value; return true; }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Starts loading the entry <paramref name="key"/> probes first (a hint only), so a later lookup finds it in cache.</summary>
    public unsafe void Prefetch(object key)
    {
        if (!Sse.IsSupported) return;
        var entries = _entries;
        Sse.Prefetch0(Unsafe.AsPointer(ref entries[Slot(key, entries.Length - 1)]));
    }

    /// <summary>Room for <paramref name="more"/> objects beyond those held, without growing step by step.</summary>
    public void Reserve(int more)
    {
        long need = ((long)_count + more) * 2;
        if (need <= _entries.Length) return;
        Grow((int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)need), 1 << 30));
    }

    void Grow(int size)
    {
        var old = _entries;
        var entries = new Entry[size];
        int mask = size - 1;
        foreach (var e in old)
        {
            if (e.Key is null) continue;
            int i = Slot(e.Key, mask);
            while (entries[i].Key is not null) i = (i + 1) & mask;
            entries[i] = e;
        }
        _entries = entries;
    }

    /// <summary>Forgets every object (and drops large tables, so a big pickle does not keep them alive).</summary>
    public void Clear()
    {
        if (_entries.Length > 1 << 16) _entries = new Entry[InitialSize];
        else if (_count > 0) Array.Clear(_entries);
        _count = 0;
    }
}
