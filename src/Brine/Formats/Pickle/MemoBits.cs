namespace Brine.Formats.Pickle;

/// <summary>
/// A growable set of memo indices, one bit each (index i is bit i % 64 of word i / 64): which entries a GET names
/// (<see cref="MemoReferenceScan"/>), and which the loaders put but did not keep.
/// </summary>
static class MemoBits
{
    public static bool Get(ulong[] bits, long index)
    {
        long word = index >> 6;
        return (ulong)word < (ulong)bits.Length && (bits[word] & 1UL << (int)(index & 63)) != 0;
    }

    /// <summary>Sets bit <paramref name="index"/> (growing the set); true when it was not set before.</summary>
    public static bool Set(ref ulong[] bits, long index)
    {
        int word = (int)(index >> 6);
        if (word >= bits.Length) Array.Resize(ref bits, Math.Max(word + 1, Math.Max(16, bits.Length * 2)));
        ulong bit = 1UL << (int)(index & 63), had = bits[word];
        bits[word] = had | bit;
        return (had & bit) == 0;
    }
}
