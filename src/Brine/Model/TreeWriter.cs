using System.Numerics;

namespace Brine.Model;

/// <summary>
/// A token writer that gathers each top-level value into a <see cref="Node"/> graph (explicit stack, no recursion;
/// anchors become shared nodes and aliases refer to them) and hands it to <see cref="OnValue"/>. For formats that
/// need a whole value before encoding it: pickle's memo must know what is shared, Avro resolves record fields by name.
/// </summary>
public abstract class TreeWriter : TokenWriter
{
    readonly List<(Node container, Node? key)> _stack = new();
    readonly Dictionary<string, Node> _anchors = new(StringComparer.Ordinal);
    // With TopListHoldsValues, the open top-level list that holds the values (the form table readers produce).
    bool _inTopList;

    /// <summary>Called with each complete top-level value.</summary>
    protected abstract void OnValue(Node value);

    /// <summary>When true, an untagged top-level list is the container of the values (rows), not a value itself.</summary>
    protected virtual bool TopListHoldsValues => false;

    /// <summary>When false, an alias is refused with an error naming the format.</summary>
    protected virtual bool AcceptsAliases => true;

    /// <summary>Whether a value is being gathered (its containers are open).</summary>
    protected bool InsideValue => _stack.Count > 0;

    void Add(Node n)
    {
        if (PendingTag is { } tag) { n.Tag = tag; PendingTag = null; }
        if (PendingAnchor is { } anchor) { _anchors[anchor] = n; PendingAnchor = null; }
        Attach(n);
        if (n.IsList || n.IsMap) _stack.Add((n, null));
        else if (_stack.Count == 0) Complete(n);
    }

    void Attach(Node n)
    {
        if (_stack.Count == 0) return;
        var (parent, key) = _stack[^1];
        if (parent.IsList) { parent.Items!.Add(n); return; }
        if (key is null)
        {
            if (!n.IsScalar) throw Error("a map key must be a scalar");
            _stack[^1] = (parent, n);
        }
        else
        {
            parent.Entries!.Add(new(key, n));
            _stack[^1] = (parent, null);
        }
    }

    void Complete(Node root)
    {
        OnValue(root);
        if (!_inTopList) _anchors.Clear();
    }

    void End(bool list)
    {
        if (list && _stack.Count == 0 && _inTopList) { _inTopList = false; _anchors.Clear(); return; }
        if (_stack.Count == 0 || _stack[^1].container.IsList != list) throw Error("unbalanced end of " + (list ? "list" : "map"));
        var (top, key) = _stack[^1];
        if (key is not null) throw Error("a map ended after a key with no value");
        _stack.RemoveAt(_stack.Count - 1);
        if (_stack.Count == 0) Complete(top);
    }

    public override void WriteNull() => Add(Node.Null());
    public override void WriteBool(bool value) => Add(Node.Bool(value));
    public override void WriteInt(long value) => Add(Node.Int(value));
    public override void WriteBigInt(BigInteger value) => Add(Node.Int(value));
    public override void WriteFloat(double value) => Add(Node.Float(value));
    public override void WriteDecimal(DecimalNumber value) => Add(Node.Decimal(value));
    public override void WriteString(string value) => Add(Node.String(value));
    public override void WriteBytes(ReadOnlySpan<byte> value) => Add(Node.Bytes(value.ToArray()));
    public override void WriteTimestamp(Timestamp value) => Add(Node.Timestamp(value));
    public override void WriteDate(DateOnly value) => Add(Node.Date(value));
    public override void WriteTime(TimeOnly value) => Add(Node.Time(value));
    public override void WriteUuid(Guid value) => Add(Node.Uuid(value));

    public override void StartList(int count = -1)
    {
        if (TopListHoldsValues && _stack.Count == 0 && !_inTopList)
        {
            _inTopList = true; PendingTag = null; PendingAnchor = null;
            return;
        }
        Add(Node.List());
    }

    public override void EndList() => End(list: true);
    public override void StartMap(int count = -1) => Add(Node.Map());
    public override void EndMap() => End(list: false);

    public override void WriteAlias(string anchor)
    {
        if (!AcceptsAliases)
            throw Error($"{FormatName} has no shared references; expand them (--refs expand) before writing (alias '{anchor}')");
        if (!_anchors.TryGetValue(anchor, out var target)) throw Error($"alias '{anchor}' refers to no earlier anchor");
        PendingTag = null;
        Attach(target);
        if (_stack.Count == 0) Complete(target);
    }
}
