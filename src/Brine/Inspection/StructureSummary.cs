using Brine.Formats;
using Brine.IO;
using Brine.Model;

namespace Brine.Inspection;

/// <summary>What <c>brine inspect</c> reports about a tree: shape, depth, counts, anchors and tags.</summary>
public sealed class StructureSummary
{
    public Format Format { get; init; } = null!;
    public long SizeBytes { get; init; }
    /// <summary>Top-level values (documents or records).</summary>
    public long Values { get; private set; }
    /// <summary>The kind of the first top-level value: map, list or a scalar kind.</summary>
    public string TopLevelShape { get; private set; } = "empty";
    /// <summary>Items of the first top-level list, or entries of the first top-level map.</summary>
    public long TopLevelCount { get; private set; }
    public int MaxDepth { get; private set; }
    public long Maps { get; private set; }
    public long Lists { get; private set; }
    public long Scalars { get; private set; }
    public long Anchors { get; private set; }
    public long Aliases { get; private set; }
    public Dictionary<TokenKind, long> ScalarKinds { get; } = new();
    public Dictionary<string, long> Tags { get; } = new();
    /// <summary>Keys of the first top-level map, in order (at most 20).</summary>
    public List<string> TopLevelKeys { get; } = new();

    /// <summary>Streams the file once, counting; memory stays flat.</summary>
    public static StructureSummary Inspect(string path, string? format = null, ReadOptions? options = null)
    {
        using var raw = File.OpenRead(path);
        var (input, head) = PeekableInput.Open(raw);
        var f = Conversion.Converter.ResolveInput(path, format, head);
        var s = new StructureSummary { Format = f, SizeBytes = raw.Length };
        using var r = f.CreateReader(input, options ?? ReadOptions.Default);
        // One frame per open container: is it a map, and is its next token a key?
        var frames = new List<(bool isMap, bool expectKey)>();
        while (r.Read())
        {
            if (r.Anchor is not null) s.Anchors++;
            if (r.Tag is { } t) s.Tags[t] = s.Tags.GetValueOrDefault(t) + 1;
            bool isKey = frames.Count > 0 && frames[^1].isMap && frames[^1].expectKey;
            if (frames.Count == 0 && s.Values == 0 && !r.Kind.IsEnd())
                s.TopLevelShape = r.Kind switch { TokenKind.StartMap => "map", TokenKind.StartList => "list", var k => k.ToString().ToLowerInvariant() };
            if (frames.Count == 1 && s.Values == 0 && (isKey || !frames[0].isMap) && !r.Kind.IsEnd())
            {
                s.TopLevelCount++;
                if (isKey && s.TopLevelKeys.Count < 20) s.TopLevelKeys.Add(r.StringValue ?? r.Kind.ToString());
            }
            switch (r.Kind)
            {
                case TokenKind.StartMap: s.Maps++; frames.Add((true, true)); break;
                case TokenKind.StartList: s.Lists++; frames.Add((false, false)); break;
                case TokenKind.EndMap:
                case TokenKind.EndList: frames.RemoveAt(frames.Count - 1); break;
                case TokenKind.Alias: s.Aliases++; break;
                default: s.Scalars++; s.ScalarKinds[r.Kind] = s.ScalarKinds.GetValueOrDefault(r.Kind) + 1; break;
            }
            s.MaxDepth = Math.Max(s.MaxDepth, frames.Count);
            if (r.Kind.IsStart()) continue;
            // A value (or key) is complete: flip the parent map between key and value.
            if (frames.Count == 0) s.Values++;
            else if (frames[^1].isMap) frames[^1] = (true, !frames[^1].expectKey);
        }
        return s;
    }
}
