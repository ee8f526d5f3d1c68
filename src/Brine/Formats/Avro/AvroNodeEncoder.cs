using System.Globalization;
using System.Numerics;
using System.Text;
using Avro;
using Brine.Model;
using AvroSchema = Avro.Schema;

namespace Brine.Formats.Avro;

/// <summary>
/// Encodes a model value with an Avro schema (explicit work stack, no recursion). Records take map entries by
/// field name (missing fields from defaults or null), unions take the first branch that fits the value, and
/// strings parse into numbers, booleans, dates and timestamps so that text sources (CSV) can be written with a schema.
/// </summary>
internal sealed class AvroNodeEncoder
{
    struct Work
    {
        public AvroSchema Schema;
        public Node? Value;
        public string? Field;
        public byte Op; // 0 value, 1 end of blocks (write 0), 2 map key
    }

    readonly Stack<Work> _work = new();
    public long Record;

    static BrineFormatException Error(long record, string? field, string detail) =>
        new("avro", $"record {record}" + (field is null ? "" : $", field '{field}'"), detail);

    public void Encode(Node value, AvroSchema schema, AvroEncoder enc)
    {
        _work.Clear();
        _work.Push(new Work { Schema = schema, Value = value });
        while (_work.Count > 0)
        {
            var w = _work.Pop();
            if (w.Op == 1) { enc.WriteLong(0); continue; }
            var n = w.Value!;
            if (w.Op == 2)
            {
                if (n.Value is not string key) throw Error(Record, w.Field, $"an Avro map key must be a string, not {n.Kind}");
                enc.WriteString(key);
                continue;
            }
            var s = w.Schema;
            if (s is UnionSchema u)
            {
                int i = PickBranch(u, n);
                if (i < 0) throw Error(Record, w.Field, $"the value {Show(n)} fits no branch of {AvroResolver.Describe(u)}");
                enc.WriteLong(i);
                s = u[i];
            }
            switch (AvroResolver.Base(s))
            {
                case RecordSchema rec:
                {
                    if (!n.IsMap) throw Error(Record, w.Field, $"expected a map for record {rec.Fullname}, found {Show(n)}");
                    int found = 0;
                    for (int i = rec.Fields.Count - 1; i >= 0; i--)
                    {
                        var f = rec.Fields[i];
                        var v = FieldValue(n, f.Name, i);
                        if (v is not null) found++;
                        if (v is null)
                        {
                            if (f.DefaultValue is not null) v = AvroResolver.DefaultToNode(f.DefaultValue, f.Schema, f.Name);
                            else if (AcceptsNull(f.Schema)) v = Node.Null();
                            else throw Error(Record, f.Name, $"the record has no value for required field '{f.Name}' ({AvroResolver.Describe(f.Schema)})");
                        }
                        _work.Push(new Work { Schema = f.Schema, Value = v, Field = f.Name });
                    }
                    // Every key must be a field: when some key matched no field, find it and say which.
                    if (found != n.Entries!.Count) CheckExtraKeys(rec, n, w.Field);
                    break;
                }
                case ArraySchema arr:
                {
                    if (!n.IsList) throw Error(Record, w.Field, $"expected a list for {AvroResolver.Describe(arr)}, found {Show(n)}");
                    var items = n.Items!;
                    if (items.Count > 0) enc.WriteLong(items.Count);
                    _work.Push(new Work { Op = 1 });
                    for (int i = items.Count - 1; i >= 0; i--) _work.Push(new Work { Schema = arr.ItemSchema, Value = items[i], Field = w.Field });
                    break;
                }
                case MapSchema map:
                {
                    if (!n.IsMap) throw Error(Record, w.Field, $"expected a map for {AvroResolver.Describe(map)}, found {Show(n)}");
                    var entries = n.Entries!;
                    if (entries.Count > 0) enc.WriteLong(entries.Count);
                    _work.Push(new Work { Op = 1 });
                    for (int i = entries.Count - 1; i >= 0; i--)
                    {
                        _work.Push(new Work { Schema = map.ValueSchema, Value = entries[i].Value, Field = w.Field });
                        _work.Push(new Work { Op = 2, Value = entries[i].Key, Field = w.Field });
                    }
                    break;
                }
                default:
                    EncodeScalar(s, n, enc, w.Field);
                    break;
            }
        }
    }

    /// <summary>The value for a field: keys usually come in schema order, so the entry at the field's position is tried first.</summary>
    static Node? FieldValue(Node map, string name, int position)
    {
        var entries = map.Entries!;
        if (position < entries.Count && entries[position].Key.Value is string pk && pk == name) return entries[position].Value;
        foreach (var e in entries)
            if (e.Key.Value is string k && k == name) return e.Value;
        foreach (var e in entries)
            if (e.Key.Value is string k && AvroSchemaInference.SafeName(k) == name) return e.Value;
        return null;
    }

    void CheckExtraKeys(RecordSchema rec, Node map, string? field)
    {
        foreach (var e in map.Entries!)
        {
            if (e.Key.Value is not string k) throw Error(Record, field, $"record {rec.Fullname} has a non-string key {Show(e.Key)}");
            if (!rec.TryGetField(k, out _) && !rec.TryGetField(AvroSchemaInference.SafeName(k), out _))
                throw Error(Record, field, $"'{k}' is not a field of record {rec.Fullname} (fields: {string.Join(", ", rec.Fields.Select(f => f.Name))})");
        }
    }

    static bool AcceptsNull(AvroSchema s) => s.Tag == AvroSchema.Type.Null || (s is UnionSchema u && u.Schemas.Any(b => b.Tag == AvroSchema.Type.Null));

    static string Show(Node n) => n.Kind switch
    {
        TokenKind.StartMap => "a map", TokenKind.StartList => "a list", TokenKind.Null => "null",
        TokenKind.String => $"string \"{(n.AsString!.Length > 40 ? n.AsString[..40] + "…" : n.AsString)}\"",
        _ => $"{n.Kind.ToString().ToLowerInvariant()} {n}",
    };

    /// <summary>The first branch whose type fits the value; exact kinds before conversions.</summary>
    internal static int PickBranch(UnionSchema u, Node n)
    {
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < u.Count; i++)
                if (Fits(u[i], n, pass == 1)) return i;
        return -1;
    }

    static bool Fits(AvroSchema s, Node n, bool loose)
    {
        var logical = (s as LogicalSchema)?.LogicalTypeName;
        var b = AvroResolver.Base(s);
        switch (n.Kind)
        {
            case TokenKind.Null: return b.Tag == AvroSchema.Type.Null;
            case TokenKind.Bool: return b.Tag == AvroSchema.Type.Boolean;
            case TokenKind.Int:
                if (logical is not null && !loose) return false;
                return b.Tag switch
                {
                    AvroSchema.Type.Long => true,
                    AvroSchema.Type.Int => n.Value is long l && l is >= int.MinValue and <= int.MaxValue,
                    AvroSchema.Type.Float or AvroSchema.Type.Double => loose,
                    _ => false,
                };
            case TokenKind.Float: return b.Tag == AvroSchema.Type.Double || b.Tag == AvroSchema.Type.Float;
            case TokenKind.Decimal: return logical == "decimal" || (loose && b.Tag is AvroSchema.Type.Double or AvroSchema.Type.Float);
            case TokenKind.String:
                if (b.Tag == AvroSchema.Type.String) return logical is null || loose || (logical == "uuid" && Guid.TryParse(n.AsString, out _));
                if (b is EnumSchema e) return e.Contains(n.AsString!);
                return loose && b.Tag == AvroSchema.Type.Bytes && logical is null;
            case TokenKind.Bytes: return (b.Tag == AvroSchema.Type.Bytes && logical != "decimal") || (b is FixedSchema f && f.Size == ((byte[])n.Value!).Length && logical is null);
            case TokenKind.Timestamp: return logical?.Contains("timestamp") == true;
            case TokenKind.Date: return logical == "date";
            case TokenKind.Time: return logical is "time-millis" or "time-micros";
            case TokenKind.Uuid: return logical == "uuid" || (loose && b.Tag == AvroSchema.Type.String);
            case TokenKind.StartMap: return b.Tag is AvroSchema.Type.Record or AvroSchema.Type.Map;
            case TokenKind.StartList: return b.Tag == AvroSchema.Type.Array;
        }
        return false;
    }

    void EncodeScalar(AvroSchema s, Node n, AvroEncoder enc, string? field)
    {
        var logical = (s as LogicalSchema)?.LogicalTypeName;
        var b = AvroResolver.Base(s);
        BrineFormatException Bad() => Error(Record, field, $"the value {Show(n)} does not fit {AvroResolver.Describe(s)}");
        string? text = n.Kind == TokenKind.String ? n.AsString : null;
        switch (b.Tag)
        {
            case AvroSchema.Type.Null:
                if (n.Kind != TokenKind.Null) throw Bad();
                return;
            case AvroSchema.Type.Boolean:
                if (n.Value is bool bv) enc.WriteBool(bv);
                else if (text is not null && bool.TryParse(text, out bv)) enc.WriteBool(bv);
                else throw Bad();
                return;
            case AvroSchema.Type.Int:
            case AvroSchema.Type.Long:
            {
                long v;
                switch (logical)
                {
                    case "date":
                        if (n.Value is DateOnly d) v = AvroValues.Days(d);
                        else if (text is not null && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out d)) v = AvroValues.Days(d);
                        else if (n.Value is Timestamp ts0 && ts0.Nanoseconds == 0 && ts0.UnixSeconds % 86400 == 0) v = ts0.UnixSeconds / 86400;
                        else if (n.Value is long l0) v = l0;
                        else throw Bad();
                        break;
                    case "time-millis" or "time-micros":
                        if (n.Value is TimeOnly t) v = logical == "time-millis" ? t.Ticks / TimeSpan.TicksPerMillisecond : t.Ticks / 10;
                        else if (text is not null && TimeOnly.TryParse(text, CultureInfo.InvariantCulture, out t)) v = logical == "time-millis" ? t.Ticks / TimeSpan.TicksPerMillisecond : t.Ticks / 10;
                        else if (n.Value is long l1) v = l1;
                        else throw Bad();
                        break;
                    case { } lt when lt.Contains("timestamp"):
                    {
                        Timestamp ts;
                        if (n.Value is Timestamp t0) ts = t0;
                        else if (text is not null && Timestamp.TryParse(text, out t0)) ts = t0;
                        else if (n.Value is DateOnly d1) ts = new Timestamp((long)AvroValues.Days(d1) * 86400, 0);
                        else if (n.Value is long l2) { v = l2; break; }
                        else throw Bad();
                        try { v = lt.EndsWith("millis") ? ts.ToUnixMilliseconds() : lt.EndsWith("micros") ? ts.ToUnixMicroseconds() : ts.ToUnixNanoseconds(); }
                        catch (OverflowException) { throw Error(Record, field, $"the timestamp {ts} is out of range for {lt}"); }
                        break;
                    }
                    default:
                        if (n.Value is long l) v = l;
                        else if (n.Value is BigInteger) throw Error(Record, field, $"the integer {n} does not fit a 64-bit long");
                        else if (n.Value is double dv && dv == Math.Floor(dv) && Math.Abs(dv) < 9.2e18) v = (long)dv;
                        else if (text is not null && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out l)) v = l;
                        else throw Bad();
                        break;
                }
                if (b.Tag == AvroSchema.Type.Int && v is < int.MinValue or > int.MaxValue) throw Error(Record, field, $"{v} is out of range for int");
                enc.WriteLong(v);
                return;
            }
            case AvroSchema.Type.Float:
            case AvroSchema.Type.Double:
            {
                double v = n.Value switch
                {
                    double dv => dv,
                    long l => l,
                    BigInteger bi => (double)bi,
                    DecimalNumber dn => dn.ToDouble(),
                    string str when double.TryParse(str, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
                    string str when str is "NaN" or "nan" => double.NaN,
                    _ => throw Bad(),
                };
                if (b.Tag == AvroSchema.Type.Float) enc.WriteFloat((float)v); else enc.WriteDouble(v);
                return;
            }
            case AvroSchema.Type.String:
                if (logical == "uuid" && n.Value is Guid g) { enc.WriteString(g.ToString()); return; }
                if (text is not null) { enc.WriteString(text); return; }
                if (n.Value is byte[] sb) { enc.WriteBytes(sb); return; }
                if (n.Kind is TokenKind.Int or TokenKind.Float or TokenKind.Decimal or TokenKind.Bool or TokenKind.Timestamp or TokenKind.Date or TokenKind.Time or TokenKind.Uuid)
                {
                    // A scalar written to a string field keeps its text form (CSV-style).
                    enc.WriteString(n.Value switch { bool bb => bb ? "true" : "false", double dd => dd.ToString("R", CultureInfo.InvariantCulture), IFormattable f => f.ToString(null, CultureInfo.InvariantCulture), var o => o!.ToString()! });
                    return;
                }
                throw Bad();
            case AvroSchema.Type.Enumeration:
            {
                var e = (EnumSchema)b;
                if (text is null) throw Bad();
                if (!e.Contains(text)) throw Error(Record, field, $"'{text}' is not a symbol of enum {e.Fullname} ({string.Join(", ", e.Symbols)})");
                enc.WriteLong(e.Ordinal(text));
                return;
            }
            case AvroSchema.Type.Bytes:
            case AvroSchema.Type.Fixed:
            {
                int? size = (b as FixedSchema)?.Size;
                byte[] bytes;
                if (logical == "decimal")
                {
                    var ls = (LogicalSchema)s;
                    int scale = int.Parse(ls.GetProperty("scale")?.Trim('"') ?? "0", CultureInfo.InvariantCulture);
                    DecimalNumber dn = n.Value switch
                    {
                        DecimalNumber x => x,
                        long l => new DecimalNumber(l, 0),
                        BigInteger bi => new DecimalNumber(bi, 0),
                        double dv => DecimalNumber.Parse(dv.ToString("R", CultureInfo.InvariantCulture)),
                        string str when DecimalNumber.TryParse(str, out var p) => p,
                        _ => throw Bad(),
                    };
                    var unscaled = dn.Unscaled;
                    if (dn.Scale < scale) unscaled *= BigInteger.Pow(10, scale - dn.Scale);
                    else if (dn.Scale > scale)
                    {
                        var q = BigInteger.DivRem(unscaled, BigInteger.Pow(10, dn.Scale - scale), out var rem);
                        if (!rem.IsZero) throw Error(Record, field, $"{dn} has more than {scale} decimal places");
                        unscaled = q;
                    }
                    bytes = unscaled.ToByteArray(isUnsigned: false, isBigEndian: true);
                    if (size is int fs)
                    {
                        if (bytes.Length > fs) throw Error(Record, field, $"{dn} does not fit {fs} bytes");
                        var padded = new byte[fs];
                        if (unscaled.Sign < 0) padded.AsSpan().Fill(0xFF);
                        bytes.CopyTo(padded, fs - bytes.Length);
                        bytes = padded;
                    }
                }
                else if (logical == "uuid" && size == 16 && n.Value is Guid g2) bytes = g2.ToByteArray(bigEndian: true);
                else if (n.Value is byte[] raw) bytes = raw;
                else if (text is not null && size is null) bytes = Encoding.UTF8.GetBytes(text);
                else throw Bad();
                if (size is int sz)
                {
                    if (bytes.Length != sz) throw Error(Record, field, $"fixed {((FixedSchema)b).Fullname} takes {sz} bytes, the value has {bytes.Length}");
                    enc.WriteFixed(bytes);
                }
                else enc.WriteBytes(bytes);
                return;
            }
        }
        throw Bad();
    }
}
