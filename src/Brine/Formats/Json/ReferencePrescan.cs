using System.Buffers.Text;
using System.Text;

namespace Brine.Formats.Json;

/// <summary>
/// Finds which objects a JSON file refers back to (<c>{"py/id": n}</c>, <c>{"$ref": "x"}</c>) before reading it, so
/// the reader anchors only those objects. A reference comes after its target, and a streaming reader must mark the
/// target when it passes it. The scan is a byte search, far cheaper than parsing; it may over-collect (a key
/// <c>"py/id"</c> in a plain map), which costs only an unused anchor.
/// </summary>
internal sealed class ReferencePrescan
{
    public HashSet<int> PyIds { get; } = new();
    public HashSet<string> Refs { get; } = new(StringComparer.Ordinal);
    /// <summary>A <c>$ref</c> with escapes was seen: the byte scan cannot name it, so every <c>$id</c> gets its anchor.</summary>
    public bool AnchorEveryId { get; private set; }

    static ReadOnlySpan<byte> PyId => "\"py/id\""u8;
    static ReadOnlySpan<byte> Ref => "\"$ref\""u8;
    const int Chunk = 1 << 20;

    /// <summary>Scans a seekable stream from its position to the end, then puts the position back.</summary>
    public static ReferencePrescan Scan(Stream s)
    {
        var result = new ReferencePrescan();
        long start = s.Position;
        var buf = new byte[Chunk];
        int kept = 0;
        while (true)
        {
            int n = s.Read(buf, kept, buf.Length - kept);
            bool last = n == 0;
            int len = kept + n;
            int carryFrom = result.ScanChunk(buf.AsSpan(0, len), last);
            if (last) break;
            kept = len - carryFrom;
            if (kept == buf.Length) { Array.Resize(ref buf, buf.Length * 2); }
            Buffer.BlockCopy(buf, carryFrom, buf, 0, kept);
        }
        s.Position = start;
        return result;
    }

    /// <summary>Collects the references in <paramref name="data"/>; returns where the unfinished tail starts.</summary>
    /// <remarks>
    /// One vectorised pass for the two bytes the markers have and JSON rarely does ('/' of <c>py/id</c>, '$' of
    /// <c>$ref</c>), then a look around each hit: far cheaper than a search for each quoted marker, whose quotes
    /// are JSON's commonest byte.
    /// </remarks>
    int ScanChunk(ReadOnlySpan<byte> data, bool last)
    {
        int safeEnd = last ? data.Length : Math.Max(0, data.Length - 64);
        int at = 0;
        while (true)
        {
            int i = data[at..].IndexOfAny((byte)'/', (byte)'$');
            if (i < 0) break;
            i += at;
            at = i + 1;
            // The quoted marker starts 3 bytes before the '/' ("py/id") or 1 before the '$' ("$ref"). One that
            // starts at safeEnd or later is left to the next chunk, which begins there.
            if (i - 3 >= safeEnd) break;
            bool py = data[i] == '/';
            int start = py ? i - 3 : i - 1;
            var pattern = py ? PyId : Ref;
            if (start < 0 || start >= safeEnd || !data[start..].StartsWith(pattern)) continue;
            int after = start + pattern.Length;
            int end = py ? TakeNumber(data, after) : TakeString(data, after);
            if (end < 0 && !last) return start;
            if (end > 0) at = end;
        }
        return safeEnd;
    }

    static int SkipColon(ReadOnlySpan<byte> d, int i)
    {
        while (i < d.Length && d[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        if (i >= d.Length) return -1;
        if (d[i] != ':') return 0;
        i++;
        while (i < d.Length && d[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return i >= d.Length ? -1 : i;
    }

    /// <returns>-1: ran out of data; 0: not a reference; else the offset after it.</returns>
    int TakeNumber(ReadOnlySpan<byte> d, int i)
    {
        i = SkipColon(d, i);
        if (i <= 0) return i;
        int j = i;
        while (j < d.Length && d[j] is >= (byte)'0' and <= (byte)'9') j++;
        if (j == d.Length) return -1;
        if (j > i && Utf8Parser.TryParse(d[i..j], out int id, out _)) PyIds.Add(id);
        return j;
    }

    int TakeString(ReadOnlySpan<byte> d, int i)
    {
        i = SkipColon(d, i);
        if (i <= 0) return i;
        if (d[i] != '"') return 0;
        int j = i + 1;
        while (j < d.Length && d[j] != '"' && d[j] != '\\') j++;
        if (j == d.Length) return -1;
        if (d[j] == '"') Refs.Add(Encoding.UTF8.GetString(d[(i + 1)..j]));
        else { AnchorEveryId = true; return j; }
        return j + 1;
    }
}
