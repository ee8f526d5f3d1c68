using System.Globalization;
using System.Numerics;
using Apache.Arrow;
using Brine.Model;

namespace Brine.Tabular;

/// <summary>
/// A token writer that turns uniform records into a table: a top-level list of maps, or several top-level
/// maps (JSON Lines). The schema is given, or inferred from the first <see cref="InferRows"/> records
/// (<see cref="SchemaInference"/>); rows then go to the table writer in batches, so memory stays flat.
/// Tags are dropped (tables have none); references must be expanded before (the pump does so).
/// </summary>
public sealed class RowsToTable : TokenWriter
{
    /// <summary>Deepest nesting inside one record that becomes nested columns (a guard, since column code follows the schema recursively).</summary>
    public const int MaxDepth = 64;

    readonly string _format;
    readonly Func<Schema, TableWriter> _createTable;
    Schema? _schema;
    TableWriter? _table;
    ColumnBuilder[]? _builders;
    Dictionary<string, int>? _columnIndex;
    readonly List<Dictionary<string, object?>> _sample = new();
    readonly List<Frame> _frames = new();
    long _records;
    bool _finished;

    public int InferRows { get; init; } = 1000;
    public int BatchSize { get; init; } = 65_536;

    /// <param name="schema">The table's schema when known (from <c>--schema</c>); else inferred.</param>
    public RowsToTable(string formatName, Func<Schema, TableWriter> createTable, Schema? schema = null)
    {
        _format = formatName; _createTable = createTable; _schema = schema;
    }

    public override string FormatName => _format;
    /// <summary>Records written so far.</summary>
    public long Records => _records;

    sealed class Frame
    {
        public List<object?>? List;
        public Dictionary<string, object?>? Map;
        public string? Key;
        public bool TopList;
    }

    public override void SetTag(string tag) { }
    public override void SetAnchor(string anchor) { }

    public override void WriteNull() => Deliver(null);
    public override void WriteBool(bool value) => Deliver(value);
    public override void WriteInt(long value) => Deliver(value);
    public override void WriteBigInt(BigInteger value) => Deliver(value >= long.MinValue && value <= long.MaxValue ? (long)value : value);
    public override void WriteFloat(double value) => Deliver(value);
    public override void WriteDecimal(DecimalNumber value) => Deliver(value);
    public override void WriteString(string value) => Deliver(value);
    public override void WriteBytes(ReadOnlySpan<byte> value) => Deliver(value.ToArray());
    public override void WriteTimestamp(Timestamp value) => Deliver(value);
    public override void WriteDate(DateOnly value) => Deliver(value);
    public override void WriteTime(TimeOnly value) => Deliver(value);
    public override void WriteUuid(Guid value) => Deliver(value);
    public override void WriteAlias(string anchor) =>
        throw Error($"a table cannot hold the reference '{anchor}'; expand references (--refs expand)");

    public override void StartList(int count = -1)
    {
        if (_frames.Count == 0) { _frames.Add(new Frame { TopList = true }); return; }
        Push(new Frame { List = new List<object?>(Math.Max(0, Math.Min(count, 1024))) });
    }

    public override void StartMap(int count = -1) => Push(new Frame { Map = new Dictionary<string, object?>() });

    void Push(Frame f)
    {
        if (_frames.Count > MaxDepth)
            throw Error($"record {_records + 1}: nesting deeper than {MaxDepth} levels cannot become table columns");
        if (_frames.Count > 0 && _frames[^1] is { Map: not null, Key: null })
            throw Error($"record {_records + 1}: a map key must be a scalar to become a column name");
        _frames.Add(f);
    }

    public override void EndList()
    {
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        if (!f.TopList) Deliver(f.List);
    }

    public override void EndMap()
    {
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        Deliver(f.Map);
    }

    void Deliver(object? value)
    {
        if (_frames.Count == 0 || _frames[^1].TopList)
        {
            if (value is Dictionary<string, object?> row) { AddRecord(row); return; }
            throw Error($"record {_records + 1} is {Describe(value)}; a table needs a map per row (a list of maps, or one map per line)");
        }
        var top = _frames[^1];
        if (top.List is not null) { top.List.Add(value); return; }
        if (top.Key is null)
        {
            if (value is List<object?> or Dictionary<string, object?>) throw Error($"record {_records + 1}: a map key must be a scalar to become a column name");
            top.Key = value is null ? "null" : ColumnBuilder.ToText(value);
            return;
        }
        top.Map![top.Key] = value;
        top.Key = null;
    }

    static string Describe(object? v) => v switch
    {
        null => "null",
        List<object?> => "a list",
        string => "a string",
        _ => "a " + v.GetType().Name.ToLowerInvariant(),
    };

    void AddRecord(Dictionary<string, object?> row)
    {
        _records++;
        if (_builders is not null) { Append(row, _records); return; }
        _sample.Add(row);
        if (_schema is null && _sample.Count < InferRows) return;
        _schema ??= InferSchema();
        Start();
    }

    Schema InferSchema()
    {
        _inferred = true;
        try { return SchemaInference.Infer(_sample); }
        catch (CellTypeException e) { throw Error($"record {_records}: {e.Message}"); }
    }

    void Start()
    {
        _builders = _schema!.FieldsList.Select(f => ColumnBuilder.Create(f.DataType)).ToArray();
        _columnIndex = new Dictionary<string, int>();
        for (int i = 0; i < _schema.FieldsList.Count; i++) _columnIndex[_schema.FieldsList[i].Name] = i;
        _table = _createTable(_schema);
        // The rows of the sample (if any) include the current record: append them all now.
        long first = _records - _sample.Count + 1;
        for (int i = 0; i < _sample.Count; i++) Append(_sample[i], first + i);
        _sample.Clear();
    }

    void Append(Dictionary<string, object?> row, long recordNumber)
    {
        foreach (var key in row.Keys)
            if (!_columnIndex!.ContainsKey(key))
                throw Error($"record {recordNumber} has the field '{key}', which is not in the table's columns ({string.Join(", ", _columnIndex.Keys)}){(_sampled ? $"; the columns were inferred from the first {InferRows} records" : "")}");
        for (int c = 0; c < _builders!.Length; c++)
        {
            var name = _schema!.FieldsList[c].Name;
            row.TryGetValue(name, out var value);
            if (value is null && !_schema.FieldsList[c].IsNullable)
                throw Error($"record {recordNumber}, column '{name}': null in a column that does not allow nulls");
            try { _builders[c].Append(value); }
            catch (CellTypeException e) { throw new BrineFormatException(_format, $"record {recordNumber}, column '{name}'", e.Message); }
        }
        if (_builders.Length > 0 && _builders[0].Length >= BatchSize) Flush();
    }

    bool _sampled => _inferred;
    bool _inferred;

    void Flush()
    {
        if (_builders is null || _builders.Length == 0 || _builders[0].Length == 0) return;
        int n = _builders[0].Length;
        var arrays = _builders.Select(b => b.Build()).ToArray();
        using var batch = new RecordBatch(_schema!, arrays, n);
        _table!.Write(batch);
    }

    public override void Finish()
    {
        if (_finished) return;
        if (_frames.Count > 0) throw Error("the input ended inside a record");
        if (_builders is null)
        {
            _schema ??= InferSchema();
            Start();
        }
        Flush();
        _table!.Finish();
        _finished = true;
    }

    public override void Dispose()
    {
        _table?.Dispose();
        base.Dispose();
    }
}
