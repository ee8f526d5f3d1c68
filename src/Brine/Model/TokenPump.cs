namespace Brine.Model;

/// <summary>How shared references travel through a conversion.</summary>
public enum RefsMode
{
    /// <summary>Keep them where the target has native references (YAML anchors, pickle memo), expand elsewhere.</summary>
    Auto,
    /// <summary>Keep them, using the target's convention when it has no native form (JSON <c>py/id</c>, XML id/ref).</summary>
    Keep,
    /// <summary>Always write shared nodes out again at every place; a cycle is an error.</summary>
    Expand,
}

public sealed class PumpOptions
{
    /// <summary>Whether the writer receives anchors and aliases (true) or the pump expands them (false).</summary>
    public bool PassReferences { get; init; } = true;
    /// <summary>Most nodes an expansion of aliases may produce: the guard against "billion laughs".</summary>
    public long MaxExpandedNodes { get; init; } = 10_000_000;
    /// <summary>Called after each top-level value with the number of values so far (for progress).</summary>
    public Action<long>? OnValue { get; init; }
}

/// <summary>
/// Moves tokens from a reader to a writer in constant memory, tracking the path for error messages and
/// expanding aliases when the target cannot keep them.
/// </summary>
public static class TokenPump
{
    /// <summary>Copies every top-level value; returns how many there were. Does not call <see cref="TokenWriter.Finish"/>.</summary>
    public static long Copy(TokenReader r, TokenWriter w, PumpOptions? options = null)
    {
        options ??= new PumpOptions();
        var path = new ModelPath();
        var expander = options.PassReferences ? null : new AliasExpander(w, options.MaxExpandedNodes);
        long values = 0;
        try
        {
            while (r.Read())
            {
                if (expander is not null) expander.Accept(r, path);
                else
                {
                    if (r.Tag is { } tag && r.Kind != TokenKind.Alias) w.SetTag(tag);
                    if (r.Anchor is { } anchor) w.SetAnchor(anchor);
                    WriteCurrent(r, w);
                }
                // Stepping after the write leaves the path at the current node if the write fails.
                path.Step(r);
                if (path.Depth == 0) { values++; options.OnValue?.Invoke(values); }
            }
        }
        catch (BrineFormatException e) { e.WithPath(path.ToString()); throw; }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException or InvalidDataException or EndOfStreamException)
        {
            throw new BrineFormatException(r.FormatName, r.Location, e.Message, e).WithPath(path.ToString());
        }
        return values;
    }

    /// <summary>Writes the reader's current token (without its tag or anchor) to the writer.</summary>
    public static void WriteCurrent(TokenReader r, TokenWriter w)
    {
        switch (r.Kind)
        {
            case TokenKind.Null: w.WriteNull(); break;
            case TokenKind.Bool: w.WriteBool(r.BoolValue); break;
            case TokenKind.Int: if (r.BigValue is { } b) w.WriteBigInt(b); else w.WriteInt(r.Int64Value); break;
            case TokenKind.Float: w.WriteFloat(r.DoubleValue); break;
            case TokenKind.Decimal: w.WriteDecimal(r.DecimalValue); break;
            case TokenKind.String:
                if (r.TryGetUtf8(out var utf8)) w.WriteStringUtf8(utf8); else w.WriteString(r.StringValue!);
                break;
            case TokenKind.Bytes: w.WriteBytes(r.BytesValue); break;
            case TokenKind.Timestamp: w.WriteTimestamp(r.TimestampValue); break;
            case TokenKind.Date: w.WriteDate(r.DateValue); break;
            case TokenKind.Time: w.WriteTime(r.TimeValue); break;
            case TokenKind.Uuid: w.WriteUuid(r.UuidValue); break;
            case TokenKind.StartList: w.StartList(r.Count); break;
            case TokenKind.EndList: w.EndList(); break;
            case TokenKind.StartMap: w.StartMap(r.Count); break;
            case TokenKind.EndMap: w.EndMap(); break;
            case TokenKind.Alias: w.WriteAlias(r.StringValue!); break;
            default: throw new InvalidOperationException("no token to write: " + r.Kind);
        }
    }

    /// <summary>Writes a whole graph to a writer (shared nodes as anchors and aliases unless <paramref name="expand"/>).</summary>
    public static void WriteNode(Node node, TokenWriter w, bool expand = false)
    {
        using var r = new NodeReader(node, expand);
        Copy(r, w, new PumpOptions { PassReferences = true });
    }

    /// <summary>
    /// Records anchored subtrees while passing tokens through without their anchors, and writes a recorded
    /// subtree again wherever an alias refers to it. An alias to a node that is still open is a cycle.
    /// </summary>
    sealed class AliasExpander
    {
        readonly TokenWriter _w;
        readonly long _max;
        long _expanded;
        readonly Dictionary<string, Node> _done = new();
        readonly HashSet<string> _open = new();
        // One builder records the outermost anchored container; nested anchors are found in its node.
        NodeBuilder? _recorder;
        int _recordDepth;
        readonly List<(string anchor, int depth)> _openAnchors = new();
        int _depth;

        public AliasExpander(TokenWriter w, long max) { _w = w; _max = max; }

        // The targets of the last few aliases, by the very name string (a reader names its anchors with the same string
        // each time: a record's shared keys are found without hashing their names). Cleared whenever an anchor opens or
        // is (re)defined, so a hit is what the dictionaries would say.
        const int RecentSize = 8;
        readonly (string? name, Node? target)[] _recent = new (string?, Node?)[RecentSize];
        int _recentNext;

        Node? Recent(string name)
        {
            foreach (var (n, t) in _recent) if (ReferenceEquals(n, name)) return t;
            return null;
        }

        public void Accept(TokenReader r, ModelPath path)
        {
            if (r.Kind == TokenKind.Alias)
            {
                var name = r.StringValue!;
                if (Recent(name) is not { } target)
                {
                    if (_open.Contains(name))
                        throw new BrineFormatException(r.FormatName, r.Location, $"cycle: alias '{name}' refers to a node that contains it; it cannot be expanded (keep references with --refs keep, or convert to YAML or pickle)");
                    if (!_done.TryGetValue(name, out target))
                        throw new BrineFormatException(r.FormatName, r.Location, $"alias '{name}' refers to no earlier anchor");
                    _recent[_recentNext] = (name, target);
                    _recentNext = (_recentNext + 1) & (RecentSize - 1);
                }
                _recorder?.Accept(r);
                if (target.IsScalar)
                {
                    // (most aliases name a scalar, e.g. a pickle's shared dict keys: no reader per alias)
                    if (++_expanded > _max)
                        throw new BrineLimitException(r.FormatName, r.Location, $"alias expansion exceeds {_max:N0} nodes (an alias bomb?); keep references with --refs keep or a format that has them");
                    if (target.Tag is { } st) _w.SetTag(st);
                    _w.WriteScalarNode(target);
                    return;
                }
                using var nr = new NodeReader(target, expand: true);
                while (nr.Read())
                {
                    if (++_expanded > _max)
                        throw new BrineLimitException(r.FormatName, r.Location, $"alias expansion exceeds {_max:N0} nodes (an alias bomb?); keep references with --refs keep or a format that has them");
                    if (nr.Tag is { } t) _w.SetTag(t);
                    WriteCurrent(nr, _w);
                }
                return;
            }

            if (r.Anchor is { } anchor)
            {
                if (r.Kind.IsStart())
                {
                    Array.Clear(_recent);
                    _open.Add(anchor);
                    _openAnchors.Add((anchor, _depth + 1));
                    if (_recorder is null) { _recorder = new NodeBuilder { ResolveExternal = n => _done.GetValueOrDefault(n) }; _recordDepth = _depth + 1; }
                }
            }
            _recorder?.Accept(r);
            if (r.Tag is { } tag) _w.SetTag(tag);
            WriteCurrent(r, _w);

            if (r.Kind.IsStart()) _depth++;
            else if (r.Kind.IsEnd())
            {
                if (_openAnchors.Count > 0 && _openAnchors[^1].depth == _depth)
                {
                    var a = _openAnchors[^1].anchor;
                    _openAnchors.RemoveAt(_openAnchors.Count - 1);
                    _open.Remove(a);
                    _done[a] = _recorder!.Anchors[a];
                    Array.Clear(_recent);
                }
                if (_recorder is not null && _depth == _recordDepth) _recorder = null;
                _depth--;
            }
            else if (r.Anchor is { } scalarAnchor)
            {
                _done[scalarAnchor] = NodeBuilder.ScalarOf(r);
                Array.Clear(_recent);
            }
        }
    }
}
