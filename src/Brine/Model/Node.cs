using System.Numerics;

namespace Brine.Model;

/// <summary>
/// A node of Brine's tree for code that wants random access. Nodes may be shared, so a tree is a graph
/// (cycles included). Build one with <see cref="NodeBuilder"/>, write one with <see cref="NodeReader"/>.
/// </summary>
public sealed class Node
{
    public TokenKind Kind { get; }
    public string? Tag { get; set; }
    /// <summary>The scalar value: bool, long, BigInteger, double, DecimalNumber, string, byte[], Timestamp, DateOnly, TimeOnly or Guid.</summary>
    public object? Value { get; }
    /// <summary>The items of a list (null otherwise).</summary>
    public List<Node>? Items { get; }
    /// <summary>The entries of a map, in order (null otherwise). Keys are scalar nodes.</summary>
    public List<KeyValuePair<Node, Node>>? Entries { get; }

    Node(TokenKind kind, object? value, string? tag)
    {
        Kind = kind; Value = value; Tag = tag;
        if (kind == TokenKind.StartList) Items = new List<Node>();
        else if (kind == TokenKind.StartMap) Entries = new List<KeyValuePair<Node, Node>>();
    }

    public static Node Null(string? tag = null) => new(TokenKind.Null, null, tag);
    public static Node Bool(bool v) => new(TokenKind.Bool, v, null);
    public static Node Int(long v) => new(TokenKind.Int, v, null);
    /// <summary>An integer; stored as long when it fits so that equal values compare equal.</summary>
    public static Node Int(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? new(TokenKind.Int, (long)v, null) : new(TokenKind.Int, v, null);
    public static Node Float(double v) => new(TokenKind.Float, v, null);
    public static Node Decimal(DecimalNumber v) => new(TokenKind.Decimal, v, null);
    public static Node String(string v) => new(TokenKind.String, v, null);
    public static Node Bytes(byte[] v) => new(TokenKind.Bytes, v, null);
    public static Node Timestamp(Timestamp v) => new(TokenKind.Timestamp, v, null);
    public static Node Date(DateOnly v) => new(TokenKind.Date, v, null);
    public static Node Time(TimeOnly v) => new(TokenKind.Time, v, null);
    public static Node Uuid(Guid v) => new(TokenKind.Uuid, v, null);
    public static Node List(string? tag = null) => new(TokenKind.StartList, null, tag);
    public static Node Map(string? tag = null) => new(TokenKind.StartMap, null, tag);

    public static Node List(params Node[] items) { var n = List(); n.Items!.AddRange(items); return n; }

    public bool IsScalar => Kind.IsScalar();
    public bool IsList => Kind == TokenKind.StartList;
    public bool IsMap => Kind == TokenKind.StartMap;

    public Node Add(Node item) { (Items ?? throw new InvalidOperationException("not a list")).Add(item); return this; }
    public Node Add(string key, Node value) => Add(String(key), value);
    public Node Add(Node key, Node value) { (Entries ?? throw new InvalidOperationException("not a map")).Add(new(key, value)); return this; }

    /// <summary>The value of the first entry whose key is the string <paramref name="key"/>, or null.</summary>
    public Node? this[string key]
    {
        get
        {
            if (Entries is null) return null;
            foreach (var e in Entries) if (e.Key.Value is string s && s == key) return e.Value;
            return null;
        }
    }

    public Node this[int index] => (Items ?? throw new InvalidOperationException("not a list"))[index];

    public string? AsString => Value as string;
    public long AsInt64 => Value is long l ? l : throw new InvalidOperationException($"not a 64-bit integer: {Kind}");

    public override string ToString() => Kind switch
    {
        TokenKind.StartList => $"[{Items!.Count} items]",
        TokenKind.StartMap => $"{{{Entries!.Count} entries}}",
        TokenKind.Null => "null",
        _ => Value?.ToString() ?? "",
    };
}
