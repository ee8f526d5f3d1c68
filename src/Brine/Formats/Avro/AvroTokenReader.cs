using System.Text;
using Brine.Model;

namespace Brine.Formats.Avro;

/// <summary>
/// Reads an Avro container file as tokens: one top-level list (the table form every tabular format shares)
/// whose items are the records, each a map (fields in the writer's order, then
/// the reader schema's added fields). Unions yield their branch's value; enums are strings; fixed is bytes;
/// logical types become Decimal, Date, Time, Timestamp and Uuid. Nested data is walked with an explicit stack.
/// </summary>
internal sealed class AvroTokenReader : TokenReader
{
    struct Frame
    {
        public AvroPlan Plan;
        public int Index;
        public long Remaining;
        public bool ValueNext;
        public bool Skip;
    }

    readonly AvroContainerReader _file;
    readonly AvroDecoder _dec = new();
    readonly AvroPlan _root;
    readonly int _maxDepth;
    Frame[] _stack = new Frame[16];
    int _depth;
    long _leftInBlock;
    long _record = -1;
    NodeReader? _default;
    byte _outer; // 0 before the list of records, 1 inside it, 2 after it

    public AvroTokenReader(Stream input, ReadOptions options)
    {
        _file = new AvroContainerReader(input, Math.Min(options.MaxValueBytes, Array.MaxLength));
        var reader = AvroFormat.LoadReaderSchema(options.SchemaPath);
        _root = AvroResolver.Resolve(_file.WriterSchema, reader);
        _maxDepth = options.MaxDepth;
        _dec.Where = () => Location;
    }

    public override string FormatName => "avro";
    public override string Location => _file.BlockIndex < 0 ? $"byte {_file.Offset}" : $"block {_file.BlockIndex} at byte {_file.BlockStart}, record {_record}";
    public AvroContainerReader File => _file;

    public override bool Read()
    {
        ResetNodeInfo();
        if (_default is not null)
        {
            if (_default.Read()) { CopyFrom(_default); return true; }
            _default = null;
        }
        while (true)
        {
            if (_depth == 0)
            {
                if (_outer == 0) { _outer = 1; Kind = TokenKind.StartList; return true; }
                if (_outer == 2) { Kind = TokenKind.None; return false; }
                if (!NextRecord()) { _outer = 2; Kind = TokenKind.EndList; return true; }
                if (Begin(_root, false)) return true;
                continue;
            }
            ref var f = ref _stack[_depth - 1];
            var plan = f.Plan;
            switch (plan.Op)
            {
                case AvroOp.Record:
                {
                    int nf = plan.Fields.Length;
                    if (f.Index < nf)
                    {
                        var fp = plan.Fields[f.Index];
                        bool skip = f.Skip || fp.Skip;
                        if (!f.ValueNext)
                        {
                            f.ValueNext = true;
                            if (!skip) { Kind = TokenKind.String; StringValue = fp.Name; return true; }
                        }
                        f.ValueNext = false; f.Index++;
                        if (Begin(fp.Plan, skip)) return true;
                        continue;
                    }
                    int d = f.Index - nf;
                    if (d < plan.Defaults.Length && !f.Skip)
                    {
                        var df = plan.Defaults[d];
                        if (!f.ValueNext) { f.ValueNext = true; Kind = TokenKind.String; StringValue = df.Name; return true; }
                        f.ValueNext = false; f.Index++;
                        _default = new NodeReader(df.Value);
                        _default.Read();
                        CopyFrom(_default);
                        return true;
                    }
                    bool wasSkip = f.Skip;
                    _depth--;
                    if (!wasSkip) { Kind = TokenKind.EndMap; return true; }
                    continue;
                }
                case AvroOp.Array:
                case AvroOp.Map:
                {
                    bool isMap = plan.Op == AvroOp.Map;
                    if (f.Remaining == 0 && !f.ValueNext)
                    {
                        long n = _dec.ReadLong();
                        if (n < 0) { n = -n; _dec.ReadLong(); }
                        if (n == 0)
                        {
                            bool wasSkip = f.Skip;
                            _depth--;
                            if (!wasSkip) { Kind = isMap ? TokenKind.EndMap : TokenKind.EndList; return true; }
                            continue;
                        }
                        f.Remaining = n;
                    }
                    if (isMap && !f.ValueNext)
                    {
                        f.ValueNext = true;
                        if (f.Skip) _dec.SkipBytes();
                        else { Kind = TokenKind.String; StringValue = _dec.ReadString(); return true; }
                    }
                    f.ValueNext = false;
                    f.Remaining--;
                    if (Begin(plan.Item!, f.Skip)) return true;
                    continue;
                }
                default:
                    throw Error($"internal: unexpected frame {plan.Op}");
            }
        }
    }

    void CopyFrom(NodeReader r)
    {
        Kind = r.Kind; Count = r.Count; Tag = r.Tag;
        BoolValue = r.BoolValue; Int64Value = r.Int64Value; BigValue = r.BigValue; DoubleValue = r.DoubleValue; DecimalValue = r.DecimalValue;
        StringValue = r.StringValue; BytesValue = r.BytesValue; TimestampValue = r.TimestampValue; DateValue = r.DateValue; TimeValue = r.TimeValue; UuidValue = r.UuidValue;
    }

    bool NextRecord()
    {
        while (_leftInBlock == 0)
        {
            if (_file.BlockIndex >= 0 && !_dec.AtEnd)
                throw Error($"{_dec.End - _dec.Position} bytes are left in the block after its records (the data does not match the schema)");
            long n = _file.NextBlock(_dec);
            if (n < 0) return false;
            _leftInBlock = n;
            _record = -1;
        }
        _leftInBlock--;
        _record++;
        return true;
    }

    void Push(AvroPlan plan, bool skip)
    {
        if (_depth >= _maxDepth) throw new BrineLimitException("avro", Location, $"nesting deeper than {_maxDepth}");
        if (_depth == _stack.Length) Array.Resize(ref _stack, _stack.Length * 2);
        _stack[_depth++] = new Frame { Plan = plan, Skip = skip };
    }

    /// <summary>Decodes the start of a value; returns true when it set a token (false when skipped).</summary>
    bool Begin(AvroPlan plan, bool skip)
    {
        if (plan.Op == AvroOp.Union)
        {
            long i = _dec.ReadLong();
            if ((ulong)i >= (ulong)plan.Branches.Length) throw Error($"union branch index {i} is out of range (the union has {plan.Branches.Length} branches)");
            plan = plan.Branches[i];
        }
        switch (plan.Op)
        {
            case AvroOp.Fail: throw Error("the data uses a union branch the reader schema cannot read: " + plan.Failure);
            case AvroOp.Record:
                Push(plan, skip);
                if (skip) return false;
                Kind = TokenKind.StartMap; Count = plan.ShownFieldCount;
                return true;
            case AvroOp.Array:
            case AvroOp.Map:
                Push(plan, skip);
                if (skip) return false;
                Kind = plan.Op == AvroOp.Array ? TokenKind.StartList : TokenKind.StartMap;
                return true;
        }
        if (skip) { SkipScalar(plan); return false; }
        ReadScalar(plan);
        return true;
    }

    void SkipScalar(AvroPlan plan)
    {
        switch (plan.Op)
        {
            case AvroOp.Null: break;
            case AvroOp.Boolean: _dec.ReadBool(); break;
            case AvroOp.Int or AvroOp.Long or AvroOp.Enum: _dec.ReadLong(); break;
            case AvroOp.Float: _dec.ReadFloat(); break;
            case AvroOp.Double: _dec.ReadDouble(); break;
            case AvroOp.Bytes or AvroOp.String: _dec.SkipBytes(); break;
            case AvroOp.Fixed: _dec.ReadFixedSpan(plan.FixedSize); break;
        }
    }

    void ReadScalar(AvroPlan plan)
    {
        switch (plan.Op)
        {
            case AvroOp.Null: Kind = TokenKind.Null; return;
            case AvroOp.Boolean: Kind = TokenKind.Bool; BoolValue = _dec.ReadBool(); return;
            case AvroOp.Int or AvroOp.Long:
            {
                long v = plan.Op == AvroOp.Int ? _dec.ReadInt() : _dec.ReadLong();
                SetInteger(plan, v);
                return;
            }
            case AvroOp.Float: Kind = TokenKind.Float; DoubleValue = _dec.ReadFloat(); return;
            case AvroOp.Double: Kind = TokenKind.Float; DoubleValue = _dec.ReadDouble(); return;
            case AvroOp.Enum:
            {
                long i = _dec.ReadLong();
                if ((ulong)i >= (ulong)plan.Symbols.Length) throw Error($"enum index {i} is out of range for {plan.Name} ({plan.Symbols.Length} symbols)");
                var sym = plan.Symbols[i] ?? throw Error($"the writer's enum symbol '{((global::Avro.EnumSchema)AvroResolver.Base(plan.Writer)).Symbols[(int)i]}' is not in the reader's enum {plan.Name}, which has no default");
                Kind = TokenKind.String; StringValue = sym;
                return;
            }
            case AvroOp.Bytes or AvroOp.String or AvroOp.Fixed:
            {
                var span = plan.Op == AvroOp.Fixed ? _dec.ReadFixedSpan(plan.FixedSize) : _dec.ReadBytesSpan();
                switch (plan.Out)
                {
                    case AvroOut.String:
                        Kind = TokenKind.String;
                        try { StringValue = Utf8.GetString(span); }
                        catch (DecoderFallbackException) { throw Error("a string is not valid UTF-8"); }
                        return;
                    case AvroOut.Decimal: Kind = TokenKind.Decimal; DecimalValue = AvroValues.DecimalFromBytes(span, plan.Scale); return;
                    case AvroOut.Uuid:
                        Kind = TokenKind.Uuid;
                        if (plan.Op == AvroOp.Fixed) { UuidValue = AvroValues.GuidFromBigEndian(span); return; }
                        if (!Guid.TryParse(Encoding.UTF8.GetString(span), out UuidValue)) throw Error($"'{Encoding.UTF8.GetString(span)}' is not a UUID");
                        return;
                    default: Kind = TokenKind.Bytes; BytesValue = span.ToArray(); return;
                }
            }
        }
        throw Error($"internal: unexpected scalar {plan.Op}");
    }

    void SetInteger(AvroPlan plan, long v)
    {
        switch (plan.Out)
        {
            case AvroOut.Float: Kind = TokenKind.Float; DoubleValue = plan.Reader.Tag == global::Avro.Schema.Type.Float ? (float)v : v; return;
            case AvroOut.Date: Kind = TokenKind.Date; DateValue = AvroValues.Date((int)v); return;
            case AvroOut.TimeMillis: Kind = TokenKind.Time; TimeValue = Time(v * TimeSpan.TicksPerMillisecond); return;
            case AvroOut.TimeMicros: Kind = TokenKind.Time; TimeValue = Time(v * 10); return;
            case AvroOut.TimestampMillis: Kind = TokenKind.Timestamp; TimestampValue = AvroValues.Stamp(Timestamp.FromUnixMilliseconds(v), plan.Local); return;
            case AvroOut.TimestampMicros: Kind = TokenKind.Timestamp; TimestampValue = AvroValues.Stamp(Timestamp.FromUnixMicroseconds(v), plan.Local); return;
            case AvroOut.TimestampNanos: Kind = TokenKind.Timestamp; TimestampValue = AvroValues.Stamp(Timestamp.FromUnixNanoseconds(v), plan.Local); return;
            default: Kind = TokenKind.Int; Int64Value = v; return;
        }
    }

    TimeOnly Time(long ticks) => ticks >= 0 && ticks < TimeSpan.TicksPerDay ? new TimeOnly(ticks) : throw Error($"time of day {ticks / 10} µs is out of range");

    static readonly UTF8Encoding Utf8 = new(false, true);
}
