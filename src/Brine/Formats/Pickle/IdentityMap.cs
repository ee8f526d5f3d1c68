using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Brine.Formats.Pickle;

/// <summary>
/// Object → memo index by reference identity, for the direct object pickler: open addressing over one array of
/// (key, value, hash) entries, one probe sequence per object (find, or add when absent). On a million records a
/// <c>Dictionary</c> with <see cref="ReferenceEqualityComparer"/> spent a seventh of the dump in its lookups; what is
/// left is mostly the cache miss of each probe, which <see cref="Prefetch"/> lets a caller start early.
/// </summary>
sealed class IdentityMap
{
    struct Entry
    {
        public object? Key;
        public int Value;
        /// <summary>The mixed hash: growing needs no object's header (a cache miss per object).</summary>
        public uint Hash;
    }

    const int InitialBits = 10;
    Entry[] _entries = new Entry[1 << InitialBits];
    /// <summary>32 minus the table's log2 size: a slot is the top bits of the mixed hash.</summary>
    int _shift = 32 - InitialBits;
    int _count;

    public int Count => _count;

    /// <summary>The hash a probe for <paramref name="key"/> uses (reads the object's header).</summary>
    public static uint Hash(object key) => (uint)RuntimeHelpers.GetHashCode(key) * 0x9E3779B1u;

    // A slot is the top bits of the hash: when the table grows, an entry's slot i becomes one of 4i … 4i+3, so a rehash
    // reads the old table and writes the new one in order (with the low bits it wrote a random line per entry).

    /// <summary>The index recorded for <paramref name="key"/>, or -1 after recording <paramref name="value"/> for it.</summary>
    public int GetOrAdd(object key, int value) => GetOrAdd(key, Hash(key), value);

    /// <summary><see cref="GetOrAdd(object, int)"/> with the key's <see cref="Hash"/> already taken.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(object key, uint h, int value)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        int i = (int)(h >> _shift);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key is null)
            {
                e.Key = key;
                e.Value = value;
                e.Hash = h;
                if (++_count * 4 > entries.Length * 3L) Grow(entries.Length * 2);   // in-order rehash: growing is cheap
                return -1;
            }
            if (ReferenceEquals(e.Key, key)) return e.Value;
            i = (i + 1) & mask;
        }
    }

    public bool TryGetValue(object key, out int value) => TryGetValue(key, Hash(key), out value);

    /// <summary><see cref="TryGetValue(object, out int)"/> with the key's <see cref="Hash"/> already taken.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetValue(object key, uint hash, out int value)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        int i = (int)(hash >> _shift);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key is null) { value = 0; return false; }
            if (ReferenceEquals(e.Key, key)) { value = e.Value; return true; }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Starts loading the entry <paramref name="key"/> probes first (a hint only), so a later lookup finds it in cache.</summary>
    public void Prefetch(object key) => Prefetch(Hash(key));

    /// <summary><see cref="Prefetch(object)"/> by the key's <see cref="Hash"/>.</summary>
    public unsafe void Prefetch(uint hash)
    {
        if (!Sse.IsSupported) return;
        var entries = _entries;
        Sse.Prefetch0(Unsafe.AsPointer(ref entries[(int)(hash >> _shift)]));
    }

    /// <summary>
    /// Starts loading the header of <paramref name="o"/> (where its identity hash lives; a hint only): a caller about to
    /// probe several objects lets their cache misses overlap instead of taking them one after another.
    /// </summary>
    public static unsafe void PrefetchObject(object o)
    {
        if (!Sse.IsSupported) return;
        // The reference is the address of the method-table word; the header is the word before it. A hint at a
        // stale address (the GC moved the object) does no harm.
        Sse.Prefetch0((byte*)Unsafe.As<object, nint>(ref o) - sizeof(nint));
    }

    /// <summary>Room for <paramref name="more"/> objects beyond those held, without growing step by step.</summary>
    public void Reserve(int more)
    {
        long need = ((long)_count + more) * 4 / 3 + 1;
        if (need <= _entries.Length) return;
        Grow((int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)need), 1 << 30));
    }

    // Large tables are rented: a fresh one is fresh memory, and its page faults cost as much as filling it
    // (≈ 10 ms for the 16 MB of a 300k-object graph).
    const int PoolFrom = 1 << 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Grow(int size)
    {
        var old = _entries;
        var entries = size >= PoolFrom ? ArrayPool<Entry>.Shared.Rent(size) : new Entry[size];
        int mask = entries.Length - 1, shift = 32 - System.Numerics.BitOperations.Log2((uint)entries.Length);
        foreach (var e in old)
        {
            if (e.Key is null) continue;
            int i = (int)(e.Hash >> shift);
            while (entries[i].Key is not null) i = (i + 1) & mask;
            entries[i] = e;
        }
        Release(old);
        _entries = entries;
        _shift = shift;
    }

    static void Release(Entry[] table)
    {
        if (table.Length >= PoolFrom) ArrayPool<Entry>.Shared.Return(table, clearArray: true);
    }

    /// <summary>Forgets every object (and gives large tables back, so a big pickle does not keep them).</summary>
    public void Clear()
    {
        if (_entries.Length >= PoolFrom)
        {
            Release(_entries);
            _entries = new Entry[1 << InitialBits];
            _shift = 32 - InitialBits;
        }
        else if (_count > 0) Array.Clear(_entries);
        _count = 0;
    }
}
