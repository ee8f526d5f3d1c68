using System.Numerics;
using Brine.Model;

namespace Brine.Formats.Avro;

/// <summary>
/// A token writer that gathers each top-level value into a <see cref="Node"/> (explicit stack, no recursion) and hands
/// it to <see cref="OnValue"/>. A top-level list is taken as the list of rows: each item is one value. Row-oriented writers that need a whole record before encoding it (Avro resolves
/// fields by name and picks union branches; Arrow infers column types) sit on top of it.
/// </summary>
internal abstract class RowCollector : TokenWriter
{
    readonly List<Node> _stack = new();
    readonly List<Node?> _keys = new();
    // A top-level list is the container of the rows (the form table readers produce), not a value.
    bool _inTopList;

    protected abstract void OnValue(Node value);

    void Add(Node n)
    {
        if (PendingTag is not null && n.Tag is null) n.Tag = PendingTag;
        PendingTag = null; PendingAnchor = null;
        if (_stack.Count == 0) { OnValue(n); return; }
        var top = _stack[^1];
        if (top.IsList) top.Add(n);
        else if (_keys[^1] is null) _keys[^1] = n.IsScalar ? n : throw Error("a map key must be a scalar");
        else { top.Add(_keys[^1]!, n); _keys[^1] = null; }
    }

    void Open(Node n)
    {
        if (PendingTag is not null) n.Tag = PendingTag;
        PendingTag = null; PendingAnchor = null;
        _stack.Add(n); _keys.Add(null);
    }

    void Close(bool map)
    {
        if (_stack.Count == 0 || _stack[^1].IsMap != map) throw Error(map ? "EndMap without a map" : "EndList without a list");
        var n = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1); _keys.RemoveAt(_keys.Count - 1);
        // Re-add as a finished child (the tag was set on open).
        var tag = n.Tag; n.Tag = null; PendingTag = tag;
        Add(n);
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
        if (_stack.Count == 0 && !_inTopList) { _inTopList = true; PendingTag = null; PendingAnchor = null; return; }
        Open(Node.List());
    }

    public override void EndList()
    {
        if (_stack.Count == 0 && _inTopList) { _inTopList = false; return; }
        Close(false);
    }
    public override void StartMap(int count = -1) => Open(Node.Map());
    public override void EndMap() => Close(true);
    public override void WriteAlias(string anchor) =>
        throw Error($"{FormatName} has no shared references; expand them (--refs expand) before writing (alias '{anchor}')");

    protected bool InsideValue => _stack.Count > 0;
}
