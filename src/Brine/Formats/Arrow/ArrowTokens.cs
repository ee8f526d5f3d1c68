using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;
using Brine.Formats.Avro;
using Brine.Model;
using Brine.Tabular;

namespace Brine.Formats.Arrow;

/// <summary>
/// Reads an Arrow table as tokens: one map per row, column name → value. Structs become maps, lists lists, Arrow
/// maps maps; nested values are walked with an explicit stack.
/// </summary>
internal sealed class ArrowTokenReader : TokenReader
{
    enum FrameKind : byte { Row, Struct, List, Map }

    struct Frame
    {
        public FrameKind Kind;
        public IArrowArray? Array;      // struct / list values / map
        public int Index, End;          // current position and end (fields or items)
        public int Row;                 // struct: the row inside the struct array
        public bool ValueNext;
    }

    readonly TableReader _table;
    readonly int _maxDepth;
    RecordBatch? _batch;
    int _row = -1;
    Frame[] _stack = new Frame[8];
    int _depth;
    long _rowsBefore;

    public ArrowTokenReader(TableReader table, ReadOptions options) { _table = table; _maxDepth = options.MaxDepth; }

    public override string FormatName => "arrow";
    public override string Location => $"row {_rowsBefore + _row}";

    public override bool Read()
    {
        ResetNodeInfo();
        while (true)
        {
            if (_depth == 0)
            {
                if (_batch is null || _row + 1 >= _batch.Length)
                {
                    if (_batch is not null) _rowsBefore += _batch.Length;
                    _batch = _table.ReadNext();
                    _row = -1;
                    if (_batch is null) { Kind = TokenKind.None; return false; }
                    continue;
                }
                _row++;
                Push(new Frame { Kind = FrameKind.Row, End = _batch.ColumnCount });
                Kind = TokenKind.StartMap; Count = _batch.ColumnCount;
                return true;
            }
            ref var f = ref _stack[_depth - 1];
            if (f.Index >= f.End)
            {
                var k = f.Kind;
                _depth--;
                Kind = k == FrameKind.List ? TokenKind.EndList : TokenKind.EndMap;
                return true;
            }
            switch (f.Kind)
            {
                case FrameKind.Row:
                    if (!f.ValueNext) { f.ValueNext = true; Kind = TokenKind.String; StringValue = _batch!.Schema.GetFieldByIndex(f.Index).Name; return true; }
                    f.ValueNext = false;
                    return Value(_batch!.Column(f.Index++), _row);
                case FrameKind.Struct:
                {
                    var s = (StructArray)f.Array!;
                    var type = (StructType)s.Data.DataType;
                    if (!f.ValueNext) { f.ValueNext = true; Kind = TokenKind.String; StringValue = type.Fields[f.Index].Name; return true; }
                    f.ValueNext = false;
                    int row = f.Row;
                    return Value(s.Fields[f.Index++], row);
                }
                case FrameKind.List:
                    return Value(f.Array!, f.Index++);
                case FrameKind.Map:
                {
                    var m = (MapArray)f.Array!;
                    if (!f.ValueNext) { f.ValueNext = true; return Value(m.Keys, f.Index); }
                    f.ValueNext = false;
                    return Value(m.Values, f.Index++);
                }
            }
        }
    }

    void Push(Frame f)
    {
        if (_depth >= _maxDepth) throw new BrineLimitException("arrow", Location, $"nesting deeper than {_maxDepth}");
        if (_depth == _stack.Length) System.Array.Resize(ref _stack, _depth * 2);
        _stack[_depth++] = f;
    }

    bool Value(IArrowArray a, int i)
    {
        if (a.IsNull(i)) { Kind = TokenKind.Null; return true; }
        switch (a)
        {
            case StringArray s: Kind = TokenKind.String; StringValue = s.GetString(i); return true;
            case LargeStringArray ls: Kind = TokenKind.String; StringValue = ls.GetString(i); return true;
            case StringViewArray sv: Kind = TokenKind.String; StringValue = sv.GetString(i); return true;
            case Int64Array v: Int(v.GetValue(i)!.Value); return true;
            case Int32Array v: Int(v.GetValue(i)!.Value); return true;
            case Int16Array v: Int(v.GetValue(i)!.Value); return true;
            case Int8Array v: Int(v.GetValue(i)!.Value); return true;
            case UInt8Array v: Int(v.GetValue(i)!.Value); return true;
            case UInt16Array v: Int(v.GetValue(i)!.Value); return true;
            case UInt32Array v: Int(v.GetValue(i)!.Value); return true;
            case UInt64Array v:
            {
                ulong u = v.GetValue(i)!.Value;
                Kind = TokenKind.Int;
                if (u <= long.MaxValue) Int64Value = (long)u; else BigValue = u;
                return true;
            }
            case DoubleArray d: Kind = TokenKind.Float; DoubleValue = d.GetValue(i)!.Value; return true;
            case FloatArray fl: Kind = TokenKind.Float; DoubleValue = fl.GetValue(i)!.Value; return true;
            case HalfFloatArray h: Kind = TokenKind.Float; DoubleValue = (double)h.GetValue(i)!.Value; return true;
            case BooleanArray b: Kind = TokenKind.Bool; BoolValue = b.GetValue(i)!.Value; return true;
            case TimestampArray t:
            {
                var type = (TimestampType)t.Data.DataType;
                long v = t.Values[i];
                var ts = type.Unit switch
                {
                    TimeUnit.Second => new Timestamp(v, 0),
                    TimeUnit.Millisecond => Timestamp.FromUnixMilliseconds(v),
                    TimeUnit.Microsecond => Timestamp.FromUnixMicroseconds(v),
                    _ => Timestamp.FromUnixNanoseconds(v),
                };
                Kind = TokenKind.Timestamp;
                TimestampValue = string.IsNullOrEmpty(type.Timezone) ? new Timestamp(ts.UnixSeconds, ts.Nanoseconds, null) : ts;
                return true;
            }
            case Date32Array d32: Kind = TokenKind.Date; DateValue = AvroValues.Date(d32.Values[i]); return true;
            case Date64Array d64: Kind = TokenKind.Date; DateValue = DateOnly.FromDateTime(DateTime.UnixEpoch.AddMilliseconds(d64.Values[i])); return true;
            case Time32Array t32:
            {
                long ticks = ((Time32Type)t32.Data.DataType).Unit == TimeUnit.Second ? t32.Values[i] * TimeSpan.TicksPerSecond : t32.Values[i] * TimeSpan.TicksPerMillisecond;
                Kind = TokenKind.Time; TimeValue = new TimeOnly(ticks); return true;
            }
            case Time64Array t64:
            {
                long ticks = ((Time64Type)t64.Data.DataType).Unit == TimeUnit.Nanosecond ? t64.Values[i] / 100 : t64.Values[i] * 10;
                Kind = TokenKind.Time; TimeValue = new TimeOnly(ticks); return true;
            }
            case Decimal128Array dec:
                Kind = TokenKind.Decimal;
                DecimalValue = new DecimalNumber(new BigInteger(dec.ValueBuffer.Span.Slice((dec.Offset + i) * 16, 16), isUnsigned: false), ((Decimal128Type)dec.Data.DataType).Scale);
                return true;
            case Decimal256Array dec256:
                Kind = TokenKind.Decimal;
                DecimalValue = new DecimalNumber(new BigInteger(dec256.ValueBuffer.Span.Slice((dec256.Offset + i) * 32, 32), isUnsigned: false), ((Decimal256Type)dec256.Data.DataType).Scale);
                return true;
            case FixedSizeBinaryArray fsb: Kind = TokenKind.Bytes; BytesValue = fsb.GetBytes(i).ToArray(); return true;
            case BinaryArray bin: Kind = TokenKind.Bytes; BytesValue = bin.GetBytes(i).ToArray(); return true;
            case LargeBinaryArray lb: Kind = TokenKind.Bytes; BytesValue = lb.GetBytes(i).ToArray(); return true;
            case NullArray: Kind = TokenKind.Null; return true;
            case DictionaryArray da:
            {
                long idx = da.Indices switch
                {
                    Int32Array x => x.GetValue(i)!.Value, Int16Array x => x.GetValue(i)!.Value, Int8Array x => x.GetValue(i)!.Value,
                    Int64Array x => x.GetValue(i)!.Value, UInt8Array x => x.GetValue(i)!.Value, UInt16Array x => x.GetValue(i)!.Value,
                    UInt32Array x => x.GetValue(i)!.Value, _ => throw Error("unsupported dictionary index type"),
                };
                return Value(da.Dictionary, (int)idx);
            }
            case StructArray st:
                Push(new Frame { Kind = FrameKind.Struct, Array = st, End = st.Fields.Count, Row = i });
                Kind = TokenKind.StartMap; Count = st.Fields.Count;
                return true;
            case MapArray map:
            {
                int start = map.ValueOffsets[i], end = map.ValueOffsets[i + 1];
                Push(new Frame { Kind = FrameKind.Map, Array = map, Index = start, End = end });
                Kind = TokenKind.StartMap; Count = end - start;
                return true;
            }
            case ListArray list:
            {
                int start = list.ValueOffsets[i], end = list.ValueOffsets[i + 1];
                Push(new Frame { Kind = FrameKind.List, Array = list.Values, Index = start, End = end });
                Kind = TokenKind.StartList; Count = end - start;
                return true;
            }
            case FixedSizeListArray fl:
            {
                int size = ((FixedSizeListType)fl.Data.DataType).ListSize;
                int start = (fl.Offset + i) * size;
                Push(new Frame { Kind = FrameKind.List, Array = fl.Values, Index = start, End = start + size });
                Kind = TokenKind.StartList; Count = size;
                return true;
            }
        }
        throw Error($"Arrow type {a.Data.DataType.Name} is not supported yet");
    }

    void Int(long v) { Kind = TokenKind.Int; Int64Value = v; }

    public override void Dispose() { _table.Dispose(); base.Dispose(); }
}

/// <summary>
/// Writes records (one map per top-level value) as an Arrow IPC file: batches of <see cref="BatchRows"/> rows, the
/// schema inferred from the first batch (one scalar kind per column; integers and floats together become double).
/// </summary>
internal sealed class ArrowTokenWriter : RowCollector
{
    public const int BatchRows = 65_536;
    readonly Stream _output;
    readonly WriteOptions _options;
    readonly List<Node> _rows = new();
    Schema? _schema;
    ArrowTableWriter? _writer;
    long _written;

    public ArrowTokenWriter(Stream output, WriteOptions options) { _output = output; _options = options; }

    public override string FormatName => "arrow";

    protected override void OnValue(Node value)
    {
        if (!value.IsMap) throw Error($"each top-level value must be a map (a row) to write a table; found {value.Kind}");
        _rows.Add(value);
        if (_rows.Count >= BatchRows) Flush();
    }

    void Flush()
    {
        _schema ??= InferSchema(_rows);
        _writer ??= new ArrowTableWriter(_output, _schema, _options.Setting("compression"));
        if (_rows.Count == 0) return;
        var builders = _schema.FieldsList.Select(f => NewBuilder(f.DataType)).ToArray();
        foreach (var row in _rows)
        {
            foreach (var e in row.Entries!)
                if (e.Key.Value is not string k || _schema.GetFieldIndex(k) < 0)
                    throw new BrineFormatException("arrow", $"row {_written}", $"key {e.Key} is not a column of the table (columns come from the first {BatchRows} rows: {string.Join(", ", _schema.FieldsList.Select(f => f.Name))})");
            for (int c = 0; c < builders.Length; c++)
            {
                var field = _schema.GetFieldByIndex(c);
                var v = row[field.Name];
                Append(builders[c], field, v, _written);
            }
            _written++;
        }
        _writer.Write(new RecordBatch(_schema, builders.Select(b => b.Build()), _rows.Count));
        _rows.Clear();
    }

    public override void Finish()
    {
        if (InsideValue) throw Error("the last row is incomplete");
        Flush();
        _writer!.Finish();
        _output.Flush();
    }

    static Schema InferSchema(List<Node> rows)
    {
        var names = new List<string>();
        var kinds = new Dictionary<string, HashSet<TokenKind>>();
        var scales = new Dictionary<string, int>();
        var offsets = new Dictionary<string, bool>();
        foreach (var row in rows)
            foreach (var e in row.Entries!)
            {
                if (e.Key.Value is not string k) throw new BrineFormatException("arrow", "", $"column names must be strings; found {e.Key.Kind} {e.Key}");
                if (!kinds.TryGetValue(k, out var set)) { kinds[k] = set = new HashSet<TokenKind>(); names.Add(k); }
                set.Add(e.Value.Kind);
                if (e.Value.Value is DecimalNumber d) scales[k] = Math.Max(scales.GetValueOrDefault(k), d.Scale);
                if (e.Value.Value is Timestamp t && t.OffsetMinutes is not null) offsets[k] = true;
            }
        var fields = new List<Field>();
        foreach (var n in names)
        {
            var set = kinds[n];
            bool nullable = set.Remove(TokenKind.Null) || rows.Any(r => r[n] is null);
            IArrowType type;
            if (set.Count == 0) type = StringType.Default;
            else if (set.All(k => k is TokenKind.Int or TokenKind.Float or TokenKind.Decimal))
                type = set.Contains(TokenKind.Float) ? DoubleType.Default : set.Contains(TokenKind.Decimal) ? new Decimal128Type(38, scales.GetValueOrDefault(n)) : Int64Type.Default;
            else if (set.Count == 1)
                type = set.First() switch
                {
                    TokenKind.Bool => BooleanType.Default,
                    TokenKind.String => StringType.Default,
                    TokenKind.Bytes => BinaryType.Default,
                    TokenKind.Timestamp => new TimestampType(TimeUnit.Microsecond, offsets.ContainsKey(n) ? "UTC" : null),
                    TokenKind.Date => Date32Type.Default,
                    TokenKind.Time => new Time64Type(TimeUnit.Microsecond),
                    TokenKind.Uuid => StringType.Default,
                    var k => throw new BrineFormatException("arrow", "", $"column '{n}' holds {k} values; Brine writes Arrow from records with scalar columns only (nested values: write Parquet/Avro, or JSON Lines)"),
                };
            else throw new BrineFormatException("arrow", "", $"column '{n}' holds values of several kinds ({string.Join(", ", set)}); an Arrow column has one type");
            fields.Add(new Field(n, type, nullable));
        }
        return new Schema(fields, null);
    }

    static ColumnBuilder NewBuilder(IArrowType t) => t switch
    {
        BooleanType => new BoolBuilder(),
        Int64Type => new FixedWidthBuilder<long>(t),
        DoubleType => new FixedWidthBuilder<double>(t),
        Decimal128Type => new FixedBytesBuilder(t, 16),
        StringType or BinaryType => new VarBytesBuilder(t),
        TimestampType or Time64Type => new FixedWidthBuilder<long>(t),
        Date32Type => new FixedWidthBuilder<int>(t),
        _ => throw new InvalidOperationException(t.Name),
    };

    static void Append(ColumnBuilder b, Field f, Node? v, long row)
    {
        if (v is null || v.Kind == TokenKind.Null)
        {
            if (!f.IsNullable) throw new BrineFormatException("arrow", $"row {row}", $"column '{f.Name}' has no nulls in the first rows, so its type is not nullable; this row has none");
            b.AppendNull();
            return;
        }
        BrineFormatException Bad() => new("arrow", $"row {row}", $"column '{f.Name}' is {f.DataType.Name} but this row holds {v.Kind} {v}");
        switch (b)
        {
            case BoolBuilder bb: bb.Append(v.Value is bool x ? x : throw Bad()); return;
            case FixedWidthBuilder<long> l when f.DataType is Int64Type: l.Append(v.Value is long x2 ? x2 : throw Bad()); return;
            case FixedWidthBuilder<long> l when f.DataType is TimestampType: l.Append(v.Value is Timestamp ts ? ts.ToUnixMicroseconds() : throw Bad()); return;
            case FixedWidthBuilder<long> l: l.Append(v.Value is TimeOnly t ? t.Ticks / 10 : throw Bad()); return;
            case FixedWidthBuilder<double> d: d.Append(v.Value switch { double x3 => x3, long x4 => x4, DecimalNumber dn => dn.ToDouble(), _ => throw Bad() }); return;
            case FixedWidthBuilder<int> i: i.Append(v.Value is DateOnly dt ? AvroValues.Days(dt) : throw Bad()); return;
            case VarBytesBuilder s:
                if (v.Value is string str) s.Append(str);
                else if (v.Value is byte[] raw) s.Append(raw);
                else if (v.Value is Guid g) s.Append(g.ToString());
                else throw Bad();
                return;
            case FixedBytesBuilder fb:
            {
                var dn = v.Value switch { DecimalNumber x5 => x5, long x6 => new DecimalNumber(x6, 0), _ => throw Bad() };
                int scale = ((Decimal128Type)f.DataType).Scale;
                var unscaled = dn.Unscaled * BigInteger.Pow(10, scale - dn.Scale);
                var slot = fb.AppendSlot();
                slot.Fill(unscaled.Sign < 0 ? (byte)0xFF : (byte)0);
                if (!unscaled.TryWriteBytes(slot, out _, isUnsigned: false, isBigEndian: false)) throw Bad();
                return;
            }
        }
        throw Bad();
    }
}
