using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;
using Brine.Formats.Arrow;
using Brine.Model;
using Brine.Tabular;
using AvroSchema = Avro.Schema;
using ArrowSchema = Apache.Arrow.Schema;

namespace Brine.Formats.Avro;

/// <summary>
/// Reads an Avro container file of records straight into Arrow columns: each top-level field decodes into a
/// column buffer with no per-value objects except for defaults. Scalar fields (primitive, logical, enum, fixed, and
/// <c>["null", scalar]</c> unions) take the fast path; records and arrays become struct and list columns through
/// the tabular core's builders. Avro maps and general unions have no column type: read those files as records.
/// </summary>
internal sealed class AvroTableReader : TableReader
{
    readonly AvroContainerReader _file;
    readonly AvroDecoder _dec = new();
    readonly AvroPlan _root;
    readonly Column[] _columns; // in the reader's field order (projected)
    readonly Step[] _steps;     // in the writer's field order
    readonly DefaultColumn[] _defaults;
    readonly int _batchSize;
    long _left;
    long _record = -1;

    sealed class Column(string name, ColumnBuffer builder, AvroPlan plan, bool nullable)
    {
        public readonly string Name = name;
        public readonly ColumnBuffer Builder = builder;
        public readonly AvroPlan Plan = plan;
        public readonly bool Nullable = nullable;
        public byte[][]? SymbolBytes;
    }

    readonly record struct Step(AvroPlan Plan, Column? Target);
    readonly record struct DefaultColumn(Node Value, Column Target);

    public AvroTableReader(Stream input, TableReadOptions options)
    {
        _file = new AvroContainerReader(input, System.Array.MaxLength);
        _dec.Where = () => $"block {_file.BlockIndex} at byte {_file.BlockStart}, record {_record}";
        var reader = AvroFormat.LoadReaderSchema(options.SchemaPath);
        _root = AvroResolver.Resolve(_file.WriterSchema, reader);
        if (_root.Op != AvroOp.Record)
            throw new BrineFormatException("avro", "schema", $"a table needs records at the top level; this file holds {AvroResolver.Describe(_file.WriterSchema)}");
        _batchSize = Math.Max(1, options.BatchSize);
        var wanted = options.Columns?.ToHashSet();
        var byReaderIndex = new SortedDictionary<int, Column>();
        var steps = new List<Step>();
        foreach (var f in _root.Fields)
        {
            Column? col = null;
            if (!f.Skip && (wanted is null || wanted.Contains(f.Name)))
            {
                col = MakeColumn(f.Name, f.Plan);
                byReaderIndex[f.ReaderIndex] = col;
            }
            steps.Add(new Step(f.Plan, col));
        }
        var defaults = new List<DefaultColumn>();
        foreach (var d in _root.Defaults)
        {
            if (wanted is not null && !wanted.Contains(d.Name)) continue;
            var col = MakeColumn(d.Name, d.Plan);
            byReaderIndex[d.ReaderIndex] = col;
            defaults.Add(new DefaultColumn(d.Value, col));
        }
        if (wanted is not null)
            foreach (var w in options.Columns!)
                if (!byReaderIndex.Values.Any(c => c.Name == w))
                    throw new BrineUsageException($"avro: no column '{w}' (columns: {string.Join(", ", _root.Fields.Where(f => !f.Skip).Select(f => f.Name).Concat(_root.Defaults.Select(d => d.Name)))})");
        _columns = wanted is null ? byReaderIndex.Values.ToArray() : options.Columns!.Select(n => byReaderIndex.Values.First(c => c.Name == n)).ToArray();
        _steps = steps.ToArray();
        _defaults = defaults.ToArray();
        Schema = new ArrowSchema(_columns.Select(c => new Field(c.Name, c.Builder.Type, c.Nullable)), Metadata());
    }

    IEnumerable<KeyValuePair<string, string>> Metadata() => new[] { new KeyValuePair<string, string>("avro.schema", _file.SchemaJson) };

    public override ArrowSchema Schema { get; }

    static Column MakeColumn(string name, AvroPlan plan)
    {
        // The Arrow type follows the reader's schema; a writer union's branches all present that type.
        var reader = plan.Reader;
        bool nullable = false;
        if (reader is global::Avro.UnionSchema u)
        {
            var others = u.Schemas.Where(s => s.Tag != AvroSchema.Type.Null).ToList();
            nullable = others.Count < u.Count;
            if (others.Count != 1)
                throw new BrineFormatException("avro", "schema", $"field '{name}': the union {AvroResolver.Describe(reader)} has no single Arrow type; read it as records (tokens) instead of a table");
            reader = others[0];
        }
        if (plan.Op == AvroOp.Union) nullable |= plan.Branches.Any(b => b.Op == AvroOp.Null);
        var probe = AvroResolver.Resolve(reader, reader);
        if (probe.Op is AvroOp.Record or AvroOp.Array or AvroOp.Map)
        {
            // Nested fields become struct and list columns with the tabular core's mapping (AvroSchemaToArrow);
            // their values are decoded as boxed rows, the form Brine.Tabular.ColumnBuilder takes.
            Field arrowField;
            var wrapper = "{\"type\":\"record\",\"name\":\"__Column\",\"fields\":[{\"name\":\"f\",\"type\":" + reader + "}]}";
            try { arrowField = AvroSchemaToArrow.Parse(wrapper).GetFieldByIndex(0); }
            catch (BrineFormatException e) { throw new BrineFormatException("avro", "schema", $"field '{name}' ({AvroResolver.Describe(reader)}) has no Arrow column type: {e.Detail}; read the file as records (tokens) instead"); }
            return new Column(name, new NestedBuffer(Brine.Tabular.ColumnBuilder.Create(arrowField.DataType)), probe, true);
        }
        var builder = BuilderFor(probe, name);
        var col = new Column(name, builder, probe, nullable || probe.Op == AvroOp.Null);
        if (probe.Op == AvroOp.Enum) { }
        return col;
    }

    static ColumnBuffer BuilderFor(AvroPlan p, string name) => p.Out switch
    {
        AvroOut.Null => new NullColumnBuilder(),
        AvroOut.Bool => new BoolBuilder(),
        AvroOut.Int => p.Op == AvroOp.Int ? new FixedWidthBuilder<int>(Int32Type.Default) : new FixedWidthBuilder<long>(Int64Type.Default),
        AvroOut.Float => p.Op == AvroOp.Float ? new FixedWidthBuilder<float>(FloatType.Default) : new FixedWidthBuilder<double>(DoubleType.Default),
        AvroOut.String or AvroOut.Enum or AvroOut.Uuid => new VarBytesBuilder(StringType.Default),
        AvroOut.Bytes => p.Op == AvroOp.Fixed ? new FixedBytesBuilder(new FixedSizeBinaryType(p.FixedSize), p.FixedSize) : new VarBytesBuilder(BinaryType.Default),
        AvroOut.Date => new FixedWidthBuilder<int>(Date32Type.Default),
        AvroOut.TimeMillis => new FixedWidthBuilder<int>(new Time32Type(TimeUnit.Millisecond)),
        AvroOut.TimeMicros => new FixedWidthBuilder<long>(new Time64Type(TimeUnit.Microsecond)),
        AvroOut.TimestampMillis => new FixedWidthBuilder<long>(new TimestampType(TimeUnit.Millisecond, p.Local ? (string?)null : "UTC")),
        AvroOut.TimestampMicros => new FixedWidthBuilder<long>(new TimestampType(TimeUnit.Microsecond, p.Local ? (string?)null : "UTC")),
        AvroOut.TimestampNanos => new FixedWidthBuilder<long>(new TimestampType(TimeUnit.Nanosecond, p.Local ? (string?)null : "UTC")),
        AvroOut.Decimal => p.Precision <= 38 ? new FixedBytesBuilder(new Decimal128Type(p.Precision, p.Scale), 16) : new FixedBytesBuilder(new Decimal256Type(p.Precision, p.Scale), 32),
        _ => throw new BrineFormatException("avro", "schema", $"field '{name}' has no Arrow column type ({p.Out})"),
    };

    public override RecordBatch? ReadNext()
    {
        int rows = 0;
        var dec = _dec;
        while (rows < _batchSize)
        {
            if (_left == 0)
            {
                if (_file.BlockIndex >= 0 && !dec.AtEnd)
                    throw dec.Bad($"{dec.End - dec.Position} bytes are left in the block after its records (the data does not match the schema)");
                long n = _file.NextBlock(dec);
                if (n < 0) break;
                _left = n; _record = -1;
                continue;
            }
            _left--; _record++;
            var steps = _steps;
            for (int i = 0; i < steps.Length; i++)
            {
                var s = steps[i];
                if (s.Target is null) Skip(s.Plan);
                else Decode(s.Plan, s.Target);
            }
            foreach (var d in _defaults) AppendNode(d.Target, d.Value);
            rows++;
        }
        if (rows == 0) return null;
        var arrays = new IArrowArray[_columns.Length];
        for (int i = 0; i < arrays.Length; i++) arrays[i] = _columns[i].Builder.Build();
        return new RecordBatch(Schema, arrays, rows);
    }

    void Decode(AvroPlan p, Column c)
    {
        var dec = _dec;
        if (p.Op == AvroOp.Union)
        {
            long bi = dec.ReadLong();
            if ((ulong)bi >= (ulong)p.Branches.Length) throw dec.Bad($"union branch index {bi} is out of range in field '{c.Name}'");
            p = p.Branches[bi];
        }
        var b = c.Builder;
        if (b is NestedBuffer nested)
        {
            try { nested.Append(p.Op == AvroOp.Null ? null : Boxed(p, c.Name)); }
            catch (CellTypeException e) { throw dec.Bad($"field '{c.Name}': {e.Message}"); }
            return;
        }
        switch (p.Op)
        {
            case AvroOp.Null: b.AppendNull(); return;
            case AvroOp.Fail: throw dec.Bad($"field '{c.Name}': the data uses a union branch the reader schema cannot read: {p.Failure}");
            case AvroOp.Boolean: ((BoolBuilder)b).Append(dec.ReadBool()); return;
            case AvroOp.Int or AvroOp.Long:
            {
                long v = dec.ReadLong();
                switch (b)
                {
                    case FixedWidthBuilder<long> l: l.Append(v); return;
                    case FixedWidthBuilder<int> i:
                        if (v is < int.MinValue or > int.MaxValue) throw dec.Bad($"field '{c.Name}': int value {v} out of 32-bit range");
                        i.Append((int)v); return;
                    case FixedWidthBuilder<double> d: d.Append(v); return;
                    case FixedWidthBuilder<float> f: f.Append(v); return;
                }
                break;
            }
            case AvroOp.Float:
            {
                float v = dec.ReadFloat();
                if (b is FixedWidthBuilder<float> f) f.Append(v); else ((FixedWidthBuilder<double>)b).Append(v);
                return;
            }
            case AvroOp.Double: ((FixedWidthBuilder<double>)b).Append(dec.ReadDouble()); return;
            case AvroOp.Enum:
            {
                long i = dec.ReadLong();
                if ((ulong)i >= (ulong)p.Symbols.Length) throw dec.Bad($"field '{c.Name}': enum index {i} is out of range");
                var sym = p.Symbols[i] ?? throw dec.Bad($"field '{c.Name}': the writer's enum symbol #{i} is not in the reader's enum {p.Name}, which has no default");
                ((VarBytesBuilder)b).Append(sym);
                return;
            }
            case AvroOp.Bytes or AvroOp.String or AvroOp.Fixed:
            {
                var span = p.Op == AvroOp.Fixed ? dec.ReadFixedSpan(p.FixedSize) : dec.ReadBytesSpan();
                switch (c.Plan.Out)
                {
                    case AvroOut.Decimal: WriteDecimal(((FixedBytesBuilder)b).AppendSlot(), span); return;
                    case AvroOut.Uuid when p.Op == AvroOp.Fixed: ((VarBytesBuilder)b).Append(AvroValues.GuidFromBigEndian(span).ToString()); return;
                    case AvroOut.Bytes when b is FixedBytesBuilder fb: span.CopyTo(fb.AppendSlot()); return;
                    default: ((VarBytesBuilder)b).Append(span); return;
                }
            }
        }
        throw dec.Bad($"field '{c.Name}': cannot store {p.Op} in a {b.Type.Name} column");
    }

    /// <summary>
    /// A nested value as a boxed row value (Dictionary for records, List for arrays). Recursion follows the schema,
    /// whose depth the Arrow mapping bounds (recursive schemas have no column type and are refused before).
    /// </summary>
    object? Boxed(AvroPlan p, string field)
    {
        var dec = _dec;
        if (p.Op == AvroOp.Union)
        {
            long bi = dec.ReadLong();
            if ((ulong)bi >= (ulong)p.Branches.Length) throw dec.Bad($"union branch index {bi} is out of range in field '{field}'");
            p = p.Branches[bi];
        }
        switch (p.Op)
        {
            case AvroOp.Null: return null;
            case AvroOp.Fail: throw dec.Bad($"field '{field}': the data uses a union branch the reader schema cannot read: {p.Failure}");
            case AvroOp.Boolean: return dec.ReadBool();
            case AvroOp.Float: return (double)dec.ReadFloat();
            case AvroOp.Double: return dec.ReadDouble();
            case AvroOp.Int or AvroOp.Long:
            {
                long v = dec.ReadLong();
                return p.Out switch
                {
                    AvroOut.Float => (double)v,
                    AvroOut.Date => AvroValues.Date((int)v),
                    AvroOut.TimeMillis => new TimeOnly(v * TimeSpan.TicksPerMillisecond),
                    AvroOut.TimeMicros => new TimeOnly(v * 10),
                    AvroOut.TimestampMillis => AvroValues.Stamp(Timestamp.FromUnixMilliseconds(v), p.Local),
                    AvroOut.TimestampMicros => AvroValues.Stamp(Timestamp.FromUnixMicroseconds(v), p.Local),
                    AvroOut.TimestampNanos => AvroValues.Stamp(Timestamp.FromUnixNanoseconds(v), p.Local),
                    _ => v,
                };
            }
            case AvroOp.Enum:
            {
                long i = dec.ReadLong();
                if ((ulong)i >= (ulong)p.Symbols.Length) throw dec.Bad($"field '{field}': enum index {i} is out of range");
                return p.Symbols[i] ?? throw dec.Bad($"field '{field}': the writer's enum symbol #{i} is not in the reader's enum {p.Name}, which has no default");
            }
            case AvroOp.Bytes or AvroOp.String or AvroOp.Fixed:
            {
                var span = p.Op == AvroOp.Fixed ? dec.ReadFixedSpan(p.FixedSize) : dec.ReadBytesSpan();
                return p.Out switch
                {
                    AvroOut.String => Encoding.UTF8.GetString(span),
                    AvroOut.Decimal => AvroValues.DecimalFromBytes(span, p.Scale),
                    AvroOut.Uuid => p.Op == AvroOp.Fixed ? AvroValues.GuidFromBigEndian(span) : Guid.Parse(Encoding.UTF8.GetString(span)),
                    _ => span.ToArray(),
                };
            }
            case AvroOp.Record:
            {
                var map = new Dictionary<string, object?>(p.Fields.Length + p.Defaults.Length);
                foreach (var f in p.Fields)
                {
                    if (f.Skip) Skip(f.Plan);
                    else map[f.Name] = Boxed(f.Plan, field + "." + f.Name);
                }
                foreach (var d in p.Defaults) map[d.Name] = BoxedNode(d.Value);
                return map;
            }
            case AvroOp.Array:
            {
                var list = new List<object?>();
                while (true)
                {
                    long n = dec.ReadLong();
                    if (n == 0) break;
                    if (n < 0) { n = -n; dec.ReadLong(); }
                    for (long k = 0; k < n; k++) list.Add(Boxed(p.Item!, field));
                }
                return list;
            }
        }
        throw dec.Bad($"field '{field}': {p.Op} values have no column form");
    }

    static object? BoxedNode(Node n)
    {
        if (n.IsList) return n.Items!.Select(BoxedNode).ToList();
        if (n.IsMap) return n.Entries!.ToDictionary(e => e.Key.AsString!, e => BoxedNode(e.Value));
        return n.Value;
    }

    /// <summary>Avro decimals are big-endian two's complement of any length; Arrow's are little-endian 16 or 32 bytes.</summary>
    static void WriteDecimal(Span<byte> slot, ReadOnlySpan<byte> bigEndian)
    {
        if (bigEndian.Length > slot.Length) throw new BrineFormatException("avro", "", $"a decimal of {bigEndian.Length} bytes does not fit {slot.Length} bytes");
        byte fill = bigEndian.Length > 0 && (bigEndian[0] & 0x80) != 0 ? (byte)0xFF : (byte)0;
        slot.Fill(fill);
        for (int i = 0; i < bigEndian.Length; i++) slot[i] = bigEndian[bigEndian.Length - 1 - i];
    }

    /// <summary>Skips a value of any shape (explicit stack: nested data never recurses).</summary>
    void Skip(AvroPlan plan)
    {
        var dec = _dec;
        var stack = new Stack<(AvroPlan plan, int index, long left)>();
        void Scalar(AvroPlan p)
        {
            switch (p.Op)
            {
                case AvroOp.Boolean: dec.ReadBool(); break;
                case AvroOp.Int or AvroOp.Long or AvroOp.Enum: dec.ReadLong(); break;
                case AvroOp.Float: dec.ReadFloat(); break;
                case AvroOp.Double: dec.ReadDouble(); break;
                case AvroOp.Bytes or AvroOp.String: dec.SkipBytes(); break;
                case AvroOp.Fixed: dec.ReadFixedSpan(p.FixedSize); break;
            }
        }
        bool Begin(AvroPlan p)
        {
            if (p.Op == AvroOp.Union)
            {
                long i = dec.ReadLong();
                if ((ulong)i >= (ulong)p.Branches.Length) throw dec.Bad($"union branch index {i} is out of range");
                p = p.Branches[i];
            }
            if (p.Op is AvroOp.Record or AvroOp.Array or AvroOp.Map) { stack.Push((p, 0, 0)); return true; }
            Scalar(p);
            return false;
        }
        if (!Begin(plan)) return;
        while (stack.Count > 0)
        {
            var (p, index, left) = stack.Pop();
            if (p.Op == AvroOp.Record)
            {
                if (index < p.Fields.Length) { stack.Push((p, index + 1, 0)); Begin(p.Fields[index].Plan); }
                continue;
            }
            if (left == 0)
            {
                left = dec.ReadLong();
                if (left == 0) continue;
                if (left < 0) { left = -left; dec.ReadLong(); }
            }
            stack.Push((p, 0, left - 1));
            if (p.Op == AvroOp.Map) dec.SkipBytes();
            Begin(p.Item!);
        }
    }

    static void AppendNode(Column c, Node v)
    {
        var b = c.Builder;
        if (v.Kind == TokenKind.Null) { b.AppendNull(); return; }
        switch (b)
        {
            case BoolBuilder bb: bb.Append((bool)v.Value!); return;
            case FixedWidthBuilder<int> i: i.Append(v.Value switch { DateOnly d => AvroValues.Days(d), TimeOnly t => (int)(t.Ticks / TimeSpan.TicksPerMillisecond), var o => (int)(long)o! }); return;
            case FixedWidthBuilder<long> l:
                l.Append(v.Value switch
                {
                    Timestamp ts => c.Plan.Out switch { AvroOut.TimestampMillis => ts.ToUnixMilliseconds(), AvroOut.TimestampNanos => ts.ToUnixNanoseconds(), _ => ts.ToUnixMicroseconds() },
                    TimeOnly t => t.Ticks / 10,
                    var o => (long)o!,
                });
                return;
            case FixedWidthBuilder<float> f: f.Append((float)Convert.ToDouble(v.Value)); return;
            case FixedWidthBuilder<double> d: d.Append(Convert.ToDouble(v.Value)); return;
            case VarBytesBuilder s: if (v.Value is byte[] raw) s.Append(raw); else s.Append(v.Value is Guid g ? g.ToString() : (string)v.Value!); return;
            case FixedBytesBuilder fb:
                if (v.Value is DecimalNumber dn) WriteDecimal(fb.AppendSlot(), dn.Unscaled.ToByteArray(isUnsigned: false, isBigEndian: true));
                else ((byte[])v.Value!).CopyTo(fb.AppendSlot());
                return;
        }
        b.AppendNull();
    }
}

/// <summary>A nested (struct or list) column filled through the tabular core's boxed-value builder.</summary>
internal sealed class NestedBuffer(Brine.Tabular.ColumnBuilder inner) : ColumnBuffer
{
    public override IArrowType Type => inner.Type;
    public void Append(object? value) { inner.Append(value); Length++; }
    public override void AppendNull() { inner.AppendNull(); Length++; }
    public override IArrowArray Build() { Length = 0; return inner.Build(); }
}

/// <summary>Writes Arrow record batches as Avro records: the schema maps column by column (nullable → ["null", T]).</summary>
internal sealed class AvroTableWriter : TableWriter
{
    readonly AvroBlockWriter _blocks = null!;
    readonly ArrowSchema _schema;
    readonly List<Field> _fields;
    // Set when a given writer schema (--schema) is not the one the columns map to: rows then go through the
    // record writer, which encodes each row by that schema (union order, enums, named types, nested records).
    readonly AvroTokenWriter? _byRecords;

    public AvroTableWriter(Stream output, ArrowSchema schema, TableWriteOptions options)
    {
        _schema = schema;
        _fields = schema.FieldsList.ToList();
        var codec = options.Compression ?? options.Setting("compression") ?? options.Setting("codec");
        string json;
        if (options.SchemaPath is { } path)
        {
            var given = AvroFormat.LoadSchemaFile(path);
            if (given is not global::Avro.RecordSchema record)
                throw new BrineUsageException($"avro: the schema in {path} is not a record schema, so it cannot describe table rows");
            // The columns' own mapping under the given record's name: when its parsing canonical form is the given
            // schema's, the columns encode exactly as that schema says and the header can carry the schema as given.
            var mapped = AvroFormat.ParseSchema(AvroArrowSchema.ToAvroJson(schema, record.Fullname));
            if (global::Avro.SchemaNormalization.ToParsingForm(mapped) != global::Avro.SchemaNormalization.ToParsingForm(given))
            {
                var settings = new Dictionary<string, string>(options.Settings);
                if (codec is not null) settings["compression"] = codec;
                _byRecords = new AvroTokenWriter(output, new WriteOptions { SchemaPath = path, Settings = settings });
                return;
            }
            json = given.ToString();
        }
        else json = AvroArrowSchema.ToAvroJson(schema, options.Setting("record-name") ?? "Row");
        _blocks = new AvroBlockWriter(output, json, AvroFormat.CodecFromSettings(codec, options.Setting("level")));
    }

    public override void Write(RecordBatch batch)
    {
        if (_byRecords is not null)
        {
            using var rows = new Brine.Conversion.ListItemsReader(new TableTokenReader(new OneBatch(_schema, batch), "avro", ownsBatches: false));
            TokenPump.Copy(rows, _byRecords);
            return;
        }
        if (batch.ColumnCount != _fields.Count) throw new BrineUsageException($"avro: the batch has {batch.ColumnCount} columns, the table {_fields.Count}");
        var cols = new IArrowArray[batch.ColumnCount];
        var nullable = new bool[cols.Length];
        var hasNulls = new bool[cols.Length];
        var kinds = new CellKind[cols.Length];
        for (int c = 0; c < cols.Length; c++)
        {
            cols[c] = batch.Column(c);
            nullable[c] = _fields[c].IsNullable;
            hasNulls[c] = cols[c].NullCount > 0;
            if (hasNulls[c] && !nullable[c]) throw new BrineFormatException("avro", $"column '{_fields[c].Name}'", "the column is not nullable but holds nulls");
            kinds[c] = KindOf(cols[c]);
        }
        var enc = _blocks.Encoder;
        for (int r = 0; r < batch.Length; r++)
        {
            for (int c = 0; c < cols.Length; c++)
            {
                var a = cols[c];
                if (nullable[c])
                {
                    if (hasNulls[c] && a.IsNull(r)) { enc.WriteLong(0); continue; }
                    enc.WriteLong(1);
                }
                // The common column types read their buffers directly; the rest go through WriteCell.
                switch (kinds[c])
                {
                    case CellKind.Int64: enc.WriteLong(((Int64Array)a).Values[r]); break;
                    case CellKind.Int32: enc.WriteLong(((Int32Array)a).Values[r]); break;
                    case CellKind.Double: enc.WriteDouble(((DoubleArray)a).Values[r]); break;
                    case CellKind.Timestamp: enc.WriteLong(((TimestampArray)a).Values[r]); break;
                    case CellKind.String:
                    {
                        var s = (StringArray)a;
                        var offsets = s.ValueOffsets;
                        int start = offsets[r];
                        enc.WriteBytes(s.Values.Slice(start, offsets[r + 1] - start));
                        break;
                    }
                    default: WriteCell(enc, a, r); break;
                }
            }
            _blocks.RecordDone();
        }
    }

    enum CellKind : byte { Other, Int64, Int32, Double, Timestamp, String }

    static CellKind KindOf(IArrowArray a) => a switch
    {
        Int64Array => CellKind.Int64,
        Int32Array => CellKind.Int32,
        DoubleArray => CellKind.Double,
        TimestampArray t when ((TimestampType)t.Data.DataType).Unit != TimeUnit.Second => CellKind.Timestamp,
        StringArray s when s.Data.DataType is StringType => CellKind.String,
        _ => CellKind.Other,
    };

    static void WriteCell(AvroEncoder enc, IArrowArray a, int r)
    {
        switch (a)
        {
            case StringArray s: enc.WriteBytes(s.GetBytes(r)); return;
            case Int64Array l: enc.WriteLong(l.GetValue(r)!.Value); return;
            case Int32Array i: enc.WriteLong(i.GetValue(r)!.Value); return;
            case TimestampArray t:
            {
                long v = t.GetValue(r)!.Value;
                if (((TimestampType)t.Data.DataType).Unit == TimeUnit.Second) v *= 1000;
                enc.WriteLong(v); return;
            }
            case DoubleArray d: enc.WriteDouble(d.GetValue(r)!.Value); return;
            case FloatArray f: enc.WriteFloat(f.GetValue(r)!.Value); return;
            case BooleanArray b: enc.WriteBool(b.GetValue(r)!.Value); return;
            case Int16Array i16: enc.WriteLong(i16.GetValue(r)!.Value); return;
            case Int8Array i8: enc.WriteLong(i8.GetValue(r)!.Value); return;
            case UInt8Array u8: enc.WriteLong(u8.GetValue(r)!.Value); return;
            case UInt16Array u16: enc.WriteLong(u16.GetValue(r)!.Value); return;
            case UInt32Array u32: enc.WriteLong(u32.GetValue(r)!.Value); return;
            case UInt64Array u64:
            {
                ulong v = u64.GetValue(r)!.Value;
                if (v > long.MaxValue) throw new BrineFormatException("avro", $"row {r}", $"the uint64 value {v} does not fit Avro's long");
                enc.WriteLong((long)v); return;
            }
            case HalfFloatArray h: enc.WriteFloat((float)h.GetValue(r)!.Value); return;
            case Date32Array d32: enc.WriteLong(d32.Values[r]); return;
            case Date64Array d64: enc.WriteLong(Math.DivRem(d64.Values[r], 86_400_000L, out var rem) - (rem < 0 ? 1 : 0)); return;
            case Time32Array t32: enc.WriteLong(((Time32Type)t32.Data.DataType).Unit == TimeUnit.Second ? t32.Values[r] * 1000L : t32.Values[r]); return;
            case Time64Array t64: enc.WriteLong(((Time64Type)t64.Data.DataType).Unit == TimeUnit.Nanosecond ? t64.Values[r] / 1000 : t64.Values[r]); return;
            case Decimal128Array dec: enc.WriteBytes(BigEndianTwos(dec.ValueBuffer.Span.Slice(r * 16 + dec.Offset * 16, 16))); return;
            case Decimal256Array dec256: enc.WriteBytes(BigEndianTwos(dec256.ValueBuffer.Span.Slice(r * 32 + dec256.Offset * 32, 32))); return;
            case FixedSizeBinaryArray fsb: enc.WriteFixed(fsb.GetBytes(r)); return;
            case BinaryArray bin: enc.WriteBytes(bin.GetBytes(r)); return;
            case LargeStringArray ls: enc.WriteString(ls.GetString(r)!); return;
            case LargeBinaryArray lb: enc.WriteBytes(lb.GetBytes(r)); return;
            case StringViewArray sv: enc.WriteString(sv.GetString(r)!); return;
            case DictionaryArray da:
            {
                int idx = da.Indices switch { Int32Array i => i.GetValue(r)!.Value, Int16Array i => i.GetValue(r)!.Value, Int8Array i => i.GetValue(r)!.Value, Int64Array i => (int)i.GetValue(r)!.Value, UInt8Array i => i.GetValue(r)!.Value, UInt16Array i => i.GetValue(r)!.Value, UInt32Array i => (int)i.GetValue(r)!.Value, _ => throw new BrineUsageException("avro: unsupported dictionary index type") };
                WriteCell(enc, da.Dictionary, idx); return;
            }
        }
        throw new BrineUsageException($"avro: Arrow type {a.Data.DataType.Name} has no Avro mapping");
    }

    static byte[] BigEndianTwos(ReadOnlySpan<byte> littleEndian)
    {
        var v = new BigInteger(littleEndian, isUnsigned: false, isBigEndian: false);
        return v.ToByteArray(isUnsigned: false, isBigEndian: true);
    }

    public override void Finish()
    {
        if (_byRecords is not null) _byRecords.Finish();
        else _blocks.Finish();
    }

    /// <summary>One batch presented as a table, for the record writer.</summary>
    sealed class OneBatch(ArrowSchema schema, RecordBatch batch) : TableReader
    {
        bool _done;
        public override ArrowSchema Schema => schema;
        public override RecordBatch? ReadNext() { if (_done) return null; _done = true; return batch; }
    }
}

/// <summary>Arrow schema → Avro schema JSON.</summary>
public static class AvroArrowSchema
{
    public static string ToAvroJson(ArrowSchema schema, string recordName)
    {
        var fields = new Newtonsoft.Json.Linq.JArray();
        var names = new HashSet<string>();
        foreach (var f in schema.FieldsList)
        {
            var name = AvroSchemaInference.SafeName(f.Name);
            if (!names.Add(name)) throw new BrineUsageException($"avro: columns named like '{f.Name}' collide as the Avro field name '{name}'");
            var t = TypeOf(f.DataType, f.Name);
            var field = new Newtonsoft.Json.Linq.JObject { ["name"] = name };
            if (f.IsNullable) { field["type"] = new Newtonsoft.Json.Linq.JArray("null", t); field["default"] = Newtonsoft.Json.Linq.JValue.CreateNull(); }
            else field["type"] = t;
            fields.Add(field);
        }
        return new Newtonsoft.Json.Linq.JObject { ["type"] = "record", ["name"] = recordName, ["fields"] = fields }.ToString(Newtonsoft.Json.Formatting.None);
    }

    static Newtonsoft.Json.Linq.JToken Logical(string type, string logical) => new Newtonsoft.Json.Linq.JObject { ["type"] = type, ["logicalType"] = logical };

    static Newtonsoft.Json.Linq.JToken TypeOf(IArrowType t, string name) => t switch
    {
        BooleanType => "boolean",
        Int8Type or Int16Type or Int32Type or UInt8Type or UInt16Type => "int",
        Int64Type or UInt32Type or UInt64Type => "long",
        HalfFloatType or FloatType => "float",
        DoubleType => "double",
        StringType or LargeStringType or StringViewType => "string",
        BinaryType or LargeBinaryType => "bytes",
        Date32Type or Date64Type => Logical("int", "date"),
        Time32Type => Logical("int", "time-millis"),
        Time64Type => Logical("long", "time-micros"),
        TimestampType ts => Logical("long", (string.IsNullOrEmpty(ts.Timezone) ? "local-" : "") + ts.Unit switch { TimeUnit.Second or TimeUnit.Millisecond => "timestamp-millis", TimeUnit.Microsecond => "timestamp-micros", _ => "timestamp-nanos" }),
        Decimal128Type d => new Newtonsoft.Json.Linq.JObject { ["type"] = "bytes", ["logicalType"] = "decimal", ["precision"] = d.Precision, ["scale"] = d.Scale },
        Decimal256Type d => new Newtonsoft.Json.Linq.JObject { ["type"] = "bytes", ["logicalType"] = "decimal", ["precision"] = d.Precision, ["scale"] = d.Scale },
        DictionaryType dt => TypeOf(dt.ValueType, name),
        FixedSizeBinaryType f => new Newtonsoft.Json.Linq.JObject { ["type"] = "fixed", ["name"] = AvroSchemaInference.SafeName(name) + "_fixed", ["size"] = f.ByteWidth },
        _ => throw new BrineUsageException($"avro: column '{name}' has Arrow type {t.Name}, which Brine's table writer does not map to Avro yet; convert through records (tokens) instead"),
    };
}
