using Brine.Model;

namespace Brine.Tabular.Filtering;

/// <summary>
/// Applies <c>--where</c> and <c>--select</c> to the records of a tree format: the items of a top-level list,
/// or top-level values, that are maps. One record is held at a time as a <see cref="Node"/>; other values pass
/// through when there is no filter (a filter matches maps only). Tree records have no schema, so the first
/// record stands for it: a column it lacks is reported as unknown, with the keys it has.
/// </summary>
public sealed class RecordFilterReader : TokenReader
{
    readonly TokenReader _in;
    readonly FilterExpression? _where;
    readonly IReadOnlyList<string>? _select;
    readonly NodeBuilder _builder = new();
    NodeReader? _current;
    int _listDepth = -1;
    bool _checked;

    public RecordFilterReader(TokenReader input, string? where, IReadOnlyList<string>? select)
    {
        _in = input;
        _where = where is null ? null : FilterExpression.Parse(where);
        _select = select;
    }

    public override string FormatName => _in.FormatName;
    public override string Location => _in.Location;

    public override bool Read()
    {
        ResetNodeInfo();
        while (true)
        {
            if (_current is not null)
            {
                if (_current.Read()) { CopyFrom(_current); return true; }
                _current = null;
            }
            if (!_in.Read()) { Kind = TokenKind.None; return false; }
            if (_listDepth < 0 && _in.Kind == TokenKind.StartList)
            {
                _listDepth = 0;
                CopyFrom(_in);
                Count = -1;
                return true;
            }
            if (_listDepth == 0 && _in.Kind == TokenKind.EndList)
            {
                _listDepth = -1;
                CopyFrom(_in);
                return true;
            }
            var node = ReadRecord();
            if (node.IsMap)
            {
                Check(node);
                if (_where is not null && !BoundFilter.Matches(_where, c => ValueOf(node[c]))) continue;
                if (_select is not null) node = Project(node);
            }
            else if (_where is not null) continue;
            _current = new NodeReader(node);
        }
    }

    Node ReadRecord()
    {
        _builder.Reset();
        _builder.Accept(_in);
        while (!_builder.IsComplete)
        {
            if (!_in.Read()) throw new BrineFormatException(_in.FormatName, _in.Location, "the input ends inside a record");
            _builder.Accept(_in);
        }
        return _builder.Result;
    }

    void Check(Node record)
    {
        if (_checked) return;
        _checked = true;
        var keys = record.Entries!.Select(e => e.Key.Value as string).Where(k => k is not null).ToList();
        foreach (var c in (_where?.Columns ?? Array.Empty<string>()))
            if (!keys.Contains(c)) throw new BrineUsageException($"--where: unknown column '{c}'; the first record has: {string.Join(", ", keys)}");
        foreach (var c in _select ?? Array.Empty<string>())
            if (!keys.Contains(c)) throw new BrineUsageException($"--select: unknown column '{c}'; the first record has: {string.Join(", ", keys)}");
    }

    static object? ValueOf(Node? n) => n is null || n.Kind == TokenKind.Null ? null : n.IsScalar ? n.Value : n;

    Node Project(Node record)
    {
        var m = Node.Map(record.Tag);
        foreach (var c in _select!)
            if (record[c] is { } v) m.Add(c, v);
        return m;
    }

    void CopyFrom(TokenReader r)
    {
        Kind = r.Kind; Tag = r.Tag; Anchor = r.Anchor; Count = r.Count;
        BoolValue = r.BoolValue; Int64Value = r.Int64Value; BigValue = r.BigValue; DoubleValue = r.DoubleValue;
        DecimalValue = r.DecimalValue; StringValue = r.StringValue; BytesValue = r.BytesValue; TimestampValue = r.TimestampValue;
        DateValue = r.DateValue; TimeValue = r.TimeValue; UuidValue = r.UuidValue;
    }

    public override void Dispose() { _in.Dispose(); base.Dispose(); }
}
