namespace Brine.Model;

/// <summary>
/// Builds <see cref="Node"/> trees from a token stream, without recursion (a million levels deep is fine).
/// Anchors become shared nodes; aliases to a node still open become cycles.
/// </summary>
public sealed class NodeBuilder
{
    readonly Dictionary<string, Node> _anchors = new();
    readonly List<(Node node, Node? pendingKey)> _stack = new();
    Node? _result;
    bool _done;

    /// <summary>Anchors seen so far, by name.</summary>
    public IReadOnlyDictionary<string, Node> Anchors => _anchors;
    public bool IsComplete => _done;
    /// <summary>Resolves aliases to anchors defined outside the value being built (used when recording a subtree).</summary>
    public Func<string, Node?>? ResolveExternal { get; init; }
    public Node Result => _done ? _result! : throw new InvalidOperationException("the value is not complete");

    /// <summary>Reads one whole top-level value from <paramref name="reader"/>; null at the end of the stream.</summary>
    public static Node? ReadValue(TokenReader reader, NodeBuilder? builder = null)
    {
        // A reader that built the graph already gives it whole: the same nodes and sharing the tokens (anchors,
        // aliases) would rebuild. Not when a builder is passed: its caller may want the anchors by name.
        if (builder is null && reader.TryTakeNode(out var whole)) return whole;
        builder ??= new NodeBuilder();
        builder.Reset();
        while (reader.Read())
        {
            builder.Accept(reader);
            if (builder.IsComplete) return builder.Result;
        }
        if (builder._stack.Count > 0) throw new BrineFormatException(reader.FormatName, reader.Location, "unexpected end of input inside a " + (builder._stack[^1].node.IsMap ? "map" : "list"));
        return null;
    }

    /// <summary>Reads every top-level value of the stream.</summary>
    public static List<Node> ReadAll(TokenReader reader)
    {
        var all = new List<Node>();
        while (ReadValue(reader) is { } n) all.Add(n);
        return all;
    }

    /// <summary>Starts a new value; anchors are per value (per document).</summary>
    public void Reset() { _stack.Clear(); _result = null; _done = false; _anchors.Clear(); }

    /// <summary>Takes the reader's current token.</summary>
    public void Accept(TokenReader r)
    {
        var kind = r.Kind;
        switch (kind)
        {
            case TokenKind.StartList:
            case TokenKind.StartMap:
            {
                var n = kind == TokenKind.StartList ? Node.List(r.Tag) : Node.Map(r.Tag);
                if (r.Anchor is { } a) _anchors[a] = n;
                Attach(n, r);
                _stack.Add((n, null));
                return;
            }
            case TokenKind.EndList:
            case TokenKind.EndMap:
            {
                if (_stack.Count == 0) throw new BrineFormatException(r.FormatName, r.Location, "unbalanced end of container");
                var top = _stack[^1].node;
                _stack.RemoveAt(_stack.Count - 1);
                if (_stack.Count == 0) { _result = top; _done = true; }
                return;
            }
            case TokenKind.Alias:
            {
                var name = r.StringValue!;
                if (!_anchors.TryGetValue(name, out var target) && (target = ResolveExternal?.Invoke(name)) is null)
                    throw new BrineFormatException(r.FormatName, r.Location, $"alias '{name}' refers to no earlier anchor");
                Attach(target, r);
                if (_stack.Count == 0) { _result = target; _done = true; }
                return;
            }
            default:
            {
                var n = ScalarOf(r);
                if (r.Anchor is { } a) _anchors[a] = n;
                Attach(n, r);
                if (_stack.Count == 0) { _result = n; _done = true; }
                return;
            }
        }
    }

    void Attach(Node n, TokenReader r)
    {
        if (_stack.Count == 0) return;
        var (parent, key) = _stack[^1];
        if (parent.IsList) { parent.Items!.Add(n); return; }
        if (key is null)
        {
            if (!n.IsScalar) throw new BrineFormatException(r.FormatName, r.Location, "a map key must be a scalar, not a " + (n.IsMap ? "map" : "list"));
            _stack[^1] = (parent, n);
        }
        else
        {
            parent.Entries!.Add(new(key, n));
            _stack[^1] = (parent, null);
        }
    }

    /// <summary>The reader's current scalar as a node (tag included, anchor not).</summary>
    public static Node ScalarOf(TokenReader r)
    {
        var n = r.Kind switch
        {
            TokenKind.Null => Node.Null(),
            TokenKind.Bool => Node.Bool(r.BoolValue),
            TokenKind.Int => r.BigValue is { } b ? Node.Int(b) : Node.Int(r.Int64Value),
            TokenKind.Float => Node.Float(r.DoubleValue),
            TokenKind.Decimal => Node.Decimal(r.DecimalValue),
            TokenKind.String => Node.String(r.StringValue!),
            TokenKind.Bytes => Node.Bytes(r.BytesValue!),
            TokenKind.Timestamp => Node.Timestamp(r.TimestampValue),
            TokenKind.Date => Node.Date(r.DateValue),
            TokenKind.Time => Node.Time(r.TimeValue),
            TokenKind.Uuid => Node.Uuid(r.UuidValue),
            _ => throw new InvalidOperationException("not a scalar: " + r.Kind),
        };
        n.Tag = r.Tag;
        return n;
    }
}
