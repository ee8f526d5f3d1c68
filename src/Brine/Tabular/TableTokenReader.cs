using System.Numerics;
using Apache.Arrow;
using Brine.Model;

namespace Brine.Tabular;

/// <summary>
/// Presents any table as Brine tokens: one list holding a map per row (column name → typed scalar, nested
/// lists and structs as lists and maps). This is how every tabular format converts to a tree format.
/// </summary>
public sealed class TableTokenReader : TokenReader
{
    readonly TableReader _table;
    readonly string _format;
    readonly bool _ownsTable;
    readonly bool _ownsBatches;
    readonly string[] _names;
    readonly bool[] _uuid;
    RecordBatch? _batch;
    int _row;
    long _rowsDone;
    int _state; // 0 before start, 1 inside the list, 2 after the end list, 3 done
    readonly List<object?> _pending = new(); // tokens of the current row, as boxed markers and values
    int _next;
    readonly Stack<IEnumerator<object?>> _walk = new();

    /// <param name="ownsBatches">false when the caller disposes the batches the table hands out.</param>
    public TableTokenReader(TableReader table, string formatName, bool ownsTable = true, bool ownsBatches = true)
    {
        _table = table; _format = formatName; _ownsTable = ownsTable; _ownsBatches = ownsBatches;
        _names = table.Schema.FieldsList.Select(f => f.Name).ToArray();
        _uuid = table.Schema.FieldsList.Select(ArrowCells.IsUuid).ToArray();
    }

    public override string FormatName => _format;
    public override string Location => $"row {_rowsDone + 1}";
    public TableReader Table => _table;

    static readonly object StartMapMarker = new(), EndMapMarker = new(), StartListMarker = new(), EndListMarker = new();

    public override bool Read()
    {
        ResetNodeInfo();
        switch (_state)
        {
            case 0:
                _state = 1;
                Kind = TokenKind.StartList;
                Count = _table.RowCount is { } n && n <= int.MaxValue && !_table.FiltersRows ? (int)n : -1;
                return true;
            case 1:
                if (_next < _pending.Count) { Emit(_pending[_next++]); return true; }
                if (!FillRow()) { _state = 2; Kind = TokenKind.EndList; return true; }
                Emit(_pending[_next++]);
                return true;
            default:
                _state = 3; Kind = TokenKind.None;
                return false;
        }
    }

    bool FillRow()
    {
        while (_batch is null || _row >= _batch.Length)
        {
            if (_ownsBatches) _batch?.Dispose();
            _batch = _table.ReadNext();
            _row = 0;
            if (_batch is null) return false;
        }
        if (_pending.Count > 0) _rowsDone++;
        _pending.Clear(); _next = 0;
        _pending.Add(StartMapMarker);
        for (int c = 0; c < _names.Length; c++)
        {
            _pending.Add(_names[c]);
            Flatten(ArrowCells.Get(_batch.Column(c), _row, _uuid[c]));
        }
        _pending.Add(EndMapMarker);
        _row++;
        return true;
    }

    /// <summary>Lays a nested value out as tokens with an explicit stack.</summary>
    void Flatten(object? value)
    {
        if (value is not (List<object?> or Dictionary<string, object?>)) { _pending.Add(value); return; }
        _walk.Clear();
        Open(value);
        while (_walk.Count > 0)
        {
            var it = _walk.Peek();
            if (!it.MoveNext()) { _walk.Pop(); continue; }
            var v = it.Current;
            if (v is KeyValuePair<string, object?> kv) { _pending.Add(kv.Key); v = kv.Value; }
            if (v is List<object?> or Dictionary<string, object?>) Open(v);
            else _pending.Add(v);
        }
    }

    void Open(object container)
    {
        if (container is List<object?> list)
        {
            _pending.Add(StartListMarker);
            _pending.Add(list.Count);
            _walk.Push(Close(list.Cast<object?>(), EndListMarker).GetEnumerator());
        }
        else
        {
            var map = (Dictionary<string, object?>)container;
            _pending.Add(StartMapMarker);
            _walk.Push(Close(map.Select(kv => (object?)kv), EndMapMarker).GetEnumerator());
        }
    }

    static IEnumerable<object?> Close(IEnumerable<object?> items, object end)
    {
        foreach (var i in items) yield return i;
        yield return new EndToken(end);
    }

    sealed record EndToken(object Marker);

    void Emit(object? v)
    {
        if (v is EndToken e) v = e.Marker;
        if (ReferenceEquals(v, StartMapMarker)) { Kind = TokenKind.StartMap; return; }
        if (ReferenceEquals(v, EndMapMarker)) { Kind = TokenKind.EndMap; return; }
        if (ReferenceEquals(v, StartListMarker)) { Kind = TokenKind.StartList; Count = (int)_pending[_next++]!; return; }
        if (ReferenceEquals(v, EndListMarker)) { Kind = TokenKind.EndList; return; }
        SetScalar(this, v);
    }

    static void SetScalar(TableTokenReader r, object? v)
    {
        switch (v)
        {
            case null: r.Kind = TokenKind.Null; break;
            case long l: r.Kind = TokenKind.Int; r.Int64Value = l; break;
            case BigInteger b: r.Kind = TokenKind.Int; r.BigValue = b; break;
            case double d: r.Kind = TokenKind.Float; r.DoubleValue = d; break;
            case bool b: r.Kind = TokenKind.Bool; r.BoolValue = b; break;
            case string s: r.Kind = TokenKind.String; r.StringValue = s; break;
            case byte[] bytes: r.Kind = TokenKind.Bytes; r.BytesValue = bytes; break;
            case Timestamp t: r.Kind = TokenKind.Timestamp; r.TimestampValue = t; break;
            case DateOnly d: r.Kind = TokenKind.Date; r.DateValue = d; break;
            case TimeOnly t: r.Kind = TokenKind.Time; r.TimeValue = t; break;
            case Guid g: r.Kind = TokenKind.Uuid; r.UuidValue = g; break;
            case DecimalNumber n: r.Kind = TokenKind.Decimal; r.DecimalValue = n; break;
            default: throw new InvalidOperationException("unexpected cell value " + v.GetType().Name);
        }
    }

    public override void Dispose()
    {
        if (_ownsBatches) _batch?.Dispose();
        if (_ownsTable) _table.Dispose();
        base.Dispose();
    }
}
