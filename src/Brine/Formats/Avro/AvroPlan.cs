using System.Globalization;
using System.Numerics;
using System.Text;
using Avro;
using Brine.Model;
using Newtonsoft.Json.Linq;
using AvroSchema = Avro.Schema;

namespace Brine.Formats.Avro;

/// <summary>How a value is encoded in the file (the writer's type).</summary>
internal enum AvroOp : byte { Null, Boolean, Int, Long, Float, Double, Bytes, String, Fixed, Enum, Record, Array, Map, Union, Fail }

/// <summary>What the reader makes of it (the reader's type and logical type).</summary>
internal enum AvroOut : byte
{
    Null, Bool, Int, Float, Bytes, String, Enum, Record, List, Map,
    Date, TimeMillis, TimeMicros, TimestampMillis, TimestampMicros, TimestampNanos, Decimal, Uuid,
}

/// <summary>
/// A compiled schema resolution (Avro spec, "Schema Resolution"): how to decode data written with the writer
/// schema and present it as the reader schema. Without a reader schema the reader is the writer. The rules follow
/// the spec and Apache.Avro's resolver: promotions int→long→float→double and string↔bytes, fields matched by name
/// or alias, added fields from defaults, removed fields skipped, unknown enum symbols to the reader's default.
/// </summary>
internal sealed class AvroPlan
{
    public AvroOp Op;
    public AvroOut Out;
    /// <summary>For timestamps: local-timestamp-* (no zone).</summary>
    public bool Local;
    public int Scale, Precision, FixedSize;
    public string? Name;
    public FieldPlan[] Fields = Array.Empty<FieldPlan>();
    public DefaultField[] Defaults = Array.Empty<DefaultField>();
    /// <summary>Enum: the reader's symbol for each writer index (null: no such symbol and no default).</summary>
    public string?[] Symbols = Array.Empty<string?>();
    public AvroPlan? Item;
    public AvroPlan[] Branches = Array.Empty<AvroPlan>();
    public string? Failure;
    public AvroSchema Writer = null!, Reader = null!;
    /// <summary>The number of fields a record shows (kept ones and added ones), computed once the plan is complete.</summary>
    public int ShownFieldCount => _shown >= 0 ? _shown : _shown = Fields.Count(f => !f.Skip) + Defaults.Length;
    int _shown = -1;

    public override string ToString() => $"{Op}->{Out}";
}

internal sealed record FieldPlan(string Name, AvroPlan Plan, bool Skip, int ReaderIndex);
internal sealed record DefaultField(string Name, Node Value, int ReaderIndex, AvroPlan Plan);

internal static class AvroResolver
{
    public static AvroPlan Resolve(AvroSchema writer, AvroSchema? reader)
    {
        var memo = new Dictionary<(AvroSchema, AvroSchema), AvroPlan>(new PairComparer());
        return Build(writer, reader ?? writer, "", memo, topLevel: true);
    }

    static BrineFormatException Incompatible(string path, string detail) =>
        new("avro", "schema", (path.Length == 0 ? "" : $"field '{path}': ") + detail);

    static AvroPlan Build(AvroSchema w, AvroSchema r, string path, Dictionary<(AvroSchema, AvroSchema), AvroPlan> memo, bool topLevel = false)
    {
        if (w is null || r is null) throw Incompatible(path, "the schema has a type that does not resolve");
        if (memo.TryGetValue((w, r), out var done)) return done;
        if (w is UnionSchema wu)
        {
            var plan = new AvroPlan { Op = AvroOp.Union, Writer = w, Reader = r };
            memo[(w, r)] = plan;
            plan.Branches = new AvroPlan[wu.Count];
            for (int i = 0; i < wu.Count; i++)
            {
                try { plan.Branches[i] = Build(wu[i], r, path, memo); }
                catch (BrineFormatException e)
                {
                    // A writer branch the reader cannot take is an error only when data uses it (spec).
                    plan.Branches[i] = new AvroPlan { Op = AvroOp.Fail, Failure = e.Detail, Writer = wu[i], Reader = r };
                }
            }
            return plan;
        }
        if (r is UnionSchema ru)
        {
            var branch = FindBranch(ru, w) ?? throw Incompatible(path, $"writer type {Describe(w)} matches no branch of the reader's union {Describe(r)}");
            // The reader's union only says which branch presents the value; the plan is the branch's.
            return Build(w, branch, path, memo);
        }
        var plan2 = new AvroPlan { Writer = w, Reader = r };
        memo[(w, r)] = plan2;
        Fill(plan2, w, r, path, memo, topLevel);
        return plan2;
    }

    static void Fill(AvroPlan plan, AvroSchema w, AvroSchema r, string path, Dictionary<(AvroSchema, AvroSchema), AvroPlan> memo, bool topLevel)
    {
        var wb = Base(w); var rb = Base(r);
        plan.Out = OutOf(r, plan);
        switch (wb.Tag)
        {
            case AvroSchema.Type.Null: plan.Op = AvroOp.Null; break;
            case AvroSchema.Type.Boolean: plan.Op = AvroOp.Boolean; break;
            case AvroSchema.Type.Int: plan.Op = AvroOp.Int; break;
            case AvroSchema.Type.Long: plan.Op = AvroOp.Long; break;
            case AvroSchema.Type.Float: plan.Op = AvroOp.Float; break;
            case AvroSchema.Type.Double: plan.Op = AvroOp.Double; break;
            case AvroSchema.Type.Bytes: plan.Op = AvroOp.Bytes; break;
            case AvroSchema.Type.String: plan.Op = AvroOp.String; break;
            case AvroSchema.Type.Fixed: plan.Op = AvroOp.Fixed; plan.FixedSize = ((FixedSchema)wb).Size; break;
            case AvroSchema.Type.Enumeration: plan.Op = AvroOp.Enum; break;
            case AvroSchema.Type.Record or AvroSchema.Type.Error: plan.Op = AvroOp.Record; break;
            case AvroSchema.Type.Array: plan.Op = AvroOp.Array; break;
            case AvroSchema.Type.Map: plan.Op = AvroOp.Map; break;
            default: throw Incompatible(path, $"unsupported writer type {Describe(w)}");
        }
        if (!Matches(wb, rb, exact: false, topLevel))
            throw Incompatible(path, $"the writer's type {Describe(w)} cannot be read as the reader's type {Describe(r)}");
        switch (plan.Op)
        {
            case AvroOp.Fixed when rb is FixedSchema rf && rf.Size != plan.FixedSize:
                throw Incompatible(path, $"fixed {((FixedSchema)wb).Fullname} has size {plan.FixedSize} in the writer and {rf.Size} in the reader");
            case AvroOp.Enum:
            {
                var we = (EnumSchema)wb; var re = (EnumSchema)rb;
                plan.Name = re.Fullname;
                plan.Symbols = we.Symbols.Select(s => re.Contains(s) ? s : re.Default).ToArray();
                break;
            }
            case AvroOp.Array:
                plan.Item = Build(((ArraySchema)wb).ItemSchema, ((ArraySchema)rb).ItemSchema, path + "[]", memo);
                break;
            case AvroOp.Map:
                plan.Item = Build(((MapSchema)wb).ValueSchema, ((MapSchema)rb).ValueSchema, path + "{}", memo);
                break;
            case AvroOp.Record:
            {
                var wr = (RecordSchema)wb; var rr = (RecordSchema)rb;
                plan.Name = rr.Fullname;
                var fields = new List<FieldPlan>();
                var matched = new HashSet<string>();
                foreach (var wf in wr.Fields)
                {
                    var rf = FindField(rr, wf);
                    var sub = Join(path, rf?.Name ?? wf.Name);
                    if (rf is null) fields.Add(new FieldPlan(wf.Name, Build(wf.Schema, wf.Schema, sub, memo), true, -1));
                    else { matched.Add(rf.Name); fields.Add(new FieldPlan(rf.Name, Build(wf.Schema, rf.Schema, sub, memo), false, rf.Pos)); }
                }
                var defaults = new List<DefaultField>();
                foreach (var rf in rr.Fields)
                {
                    if (matched.Contains(rf.Name)) continue;
                    var sub = Join(path, rf.Name);
                    if (rf.DefaultValue is null)
                        throw Incompatible(sub, $"the reader's field '{rf.Name}' ({Describe(rf.Schema)}) is not in the writer's schema and has no default");
                    defaults.Add(new DefaultField(rf.Name, DefaultToNode(rf.DefaultValue, rf.Schema, sub), rf.Pos, Build(rf.Schema, rf.Schema, sub, memo)));
                }
                plan.Fields = fields.ToArray();
                plan.Defaults = defaults.ToArray();
                break;
            }
        }
    }

    static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    static Field? FindField(RecordSchema r, Field wf)
    {
        if (r.TryGetField(wf.Name, out var f)) return f;
        foreach (var rf in r.Fields)
            if (rf.Aliases is { } a && a.Contains(wf.Name)) return rf;
        return null;
    }


    public static AvroSchema Base(AvroSchema s) => s is LogicalSchema l ? l.BaseSchema ?? throw NoBase(l) : s;

    static BrineFormatException NoBase(LogicalSchema l) => new("avro", "schema", $"the logical type '{l.LogicalTypeName}' has no underlying type");

    static AvroSchema? FindBranch(UnionSchema ru, AvroSchema w)
    {
        var wb = Base(w);
        foreach (var b in ru.Schemas) if (Matches(wb, Base(b), exact: true, false)) return b;
        foreach (var b in ru.Schemas) if (Matches(wb, Base(b), exact: false, false)) return b;
        return null;
    }

    static bool Matches(AvroSchema w, AvroSchema r, bool exact, bool topLevel)
    {
        var wt = w.Tag; var rt = r.Tag;
        if (wt == AvroSchema.Type.Error) wt = AvroSchema.Type.Record;
        if (rt == AvroSchema.Type.Error) rt = AvroSchema.Type.Record;
        if (wt == rt)
        {
            if (w is NamedSchema wn && r is NamedSchema rn && !topLevel)
                return wn.Name == rn.Name || wn.Fullname == rn.Fullname;
            return true;
        }
        if (exact) return false;
        return (wt, rt) switch
        {
            (AvroSchema.Type.Int, AvroSchema.Type.Long or AvroSchema.Type.Float or AvroSchema.Type.Double) => true,
            (AvroSchema.Type.Long, AvroSchema.Type.Float or AvroSchema.Type.Double) => true,
            (AvroSchema.Type.Float, AvroSchema.Type.Double) => true,
            (AvroSchema.Type.String, AvroSchema.Type.Bytes) or (AvroSchema.Type.Bytes, AvroSchema.Type.String) => true,
            _ => false,
        };
    }

    static AvroOut OutOf(AvroSchema r, AvroPlan plan)
    {
        if (r is LogicalSchema l)
        {
            var baseTag = (l.BaseSchema ?? throw NoBase(l)).Tag;
            switch (l.LogicalTypeName)
            {
                case "date" when baseTag == AvroSchema.Type.Int: return AvroOut.Date;
                case "time-millis" when baseTag == AvroSchema.Type.Int: return AvroOut.TimeMillis;
                case "time-micros" when baseTag == AvroSchema.Type.Long: return AvroOut.TimeMicros;
                case "timestamp-millis" when baseTag == AvroSchema.Type.Long: return AvroOut.TimestampMillis;
                case "timestamp-micros" when baseTag == AvroSchema.Type.Long: return AvroOut.TimestampMicros;
                case "timestamp-nanos" when baseTag == AvroSchema.Type.Long: return AvroOut.TimestampNanos;
                case "local-timestamp-millis" when baseTag == AvroSchema.Type.Long: plan.Local = true; return AvroOut.TimestampMillis;
                case "local-timestamp-micros" when baseTag == AvroSchema.Type.Long: plan.Local = true; return AvroOut.TimestampMicros;
                case "local-timestamp-nanos" when baseTag == AvroSchema.Type.Long: plan.Local = true; return AvroOut.TimestampNanos;
                case "uuid" when baseTag is AvroSchema.Type.String || (l.BaseSchema is FixedSchema { Size: 16 }): return AvroOut.Uuid;
                case "decimal" when baseTag is AvroSchema.Type.Bytes or AvroSchema.Type.Fixed:
                    plan.Precision = IntProp(l, "precision") ?? 38;
                    plan.Scale = IntProp(l, "scale") ?? 0;
                    return AvroOut.Decimal;
            }
            r = l.BaseSchema ?? throw NoBase(l);
        }
        return r.Tag switch
        {
            AvroSchema.Type.Null => AvroOut.Null,
            AvroSchema.Type.Boolean => AvroOut.Bool,
            AvroSchema.Type.Int or AvroSchema.Type.Long => AvroOut.Int,
            AvroSchema.Type.Float or AvroSchema.Type.Double => AvroOut.Float,
            AvroSchema.Type.Bytes or AvroSchema.Type.Fixed => AvroOut.Bytes,
            AvroSchema.Type.String => AvroOut.String,
            AvroSchema.Type.Enumeration => AvroOut.Enum,
            AvroSchema.Type.Record or AvroSchema.Type.Error => AvroOut.Record,
            AvroSchema.Type.Array => AvroOut.List,
            AvroSchema.Type.Map => AvroOut.Map,
            _ => AvroOut.Null,
        };
    }

    static int? IntProp(AvroSchema s, string name)
    {
        var v = s.GetProperty(name);
        return v is not null && int.TryParse(v.Trim('"'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
    }

    public static string Describe(AvroSchema s) => s switch
    {
        LogicalSchema l => $"{l.BaseSchema.Tag.ToString().ToLowerInvariant()} ({l.LogicalTypeName})",
        UnionSchema u => "[" + string.Join(", ", u.Schemas.Select(Describe)) + "]",
        NamedSchema n => $"{Kind(n.Tag)} {n.Fullname}",
        ArraySchema a => $"array<{Describe(a.ItemSchema)}>",
        MapSchema m => $"map<{Describe(m.ValueSchema)}>",
        _ => Kind(s.Tag),
    };

    static string Kind(AvroSchema.Type t) => t switch { AvroSchema.Type.Enumeration => "enum", _ => t.ToString().ToLowerInvariant() };

    /// <summary>A field's JSON default as a model value, read by the field's schema (a union's default is for its first branch).</summary>
    public static Node DefaultToNode(JToken json, AvroSchema s, string path)
    {
        try { return Convert(json, s); }
        catch (Exception e) when (e is FormatException or InvalidCastException or ArgumentException or OverflowException)
        { throw Incompatible(path, $"the default value {json.ToString(Newtonsoft.Json.Formatting.None)} does not fit {Describe(s)}"); }
    }

    static Node Convert(JToken j, AvroSchema s)
    {
        if (s is UnionSchema u)
        {
            foreach (var b in u.Schemas)
            {
                try { return Convert(j, b); } catch (Exception e) when (e is FormatException or InvalidCastException or ArgumentException) { }
            }
            throw new FormatException("no branch fits");
        }
        var plan = new AvroPlan();
        var outKind = OutOf(s, plan);
        var b0 = Base(s);
        switch (outKind)
        {
            case AvroOut.Null: return j.Type == JTokenType.Null ? Node.Null() : throw new FormatException();
            case AvroOut.Bool: return Node.Bool(j.Type == JTokenType.Boolean ? (bool)j : throw new FormatException());
            case AvroOut.Int: return j.Type == JTokenType.Integer ? Node.Int((long)j) : throw new FormatException();
            case AvroOut.Float: return j.Type is JTokenType.Float or JTokenType.Integer ? Node.Float((double)j) : throw new FormatException();
            case AvroOut.String: return j.Type == JTokenType.String ? Node.String((string)j!) : throw new FormatException();
            case AvroOut.Enum: return j.Type == JTokenType.String && ((EnumSchema)b0).Contains((string)j!) ? Node.String((string)j!) : throw new FormatException();
            case AvroOut.Bytes: return j.Type == JTokenType.String ? Node.Bytes(Encoding.Latin1.GetBytes((string)j!)) : throw new FormatException();
            case AvroOut.Date: return Node.Date(DateOnly.FromDayNumber(UnixEpochDay + (int)(long)j));
            case AvroOut.TimeMillis: return Node.Time(new TimeOnly((long)j * TimeSpan.TicksPerMillisecond));
            case AvroOut.TimeMicros: return Node.Time(new TimeOnly((long)j * 10));
            case AvroOut.TimestampMillis: return Node.Timestamp(AvroValues.Stamp(Timestamp.FromUnixMilliseconds((long)j), plan.Local));
            case AvroOut.TimestampMicros: return Node.Timestamp(AvroValues.Stamp(Timestamp.FromUnixMicroseconds((long)j), plan.Local));
            case AvroOut.TimestampNanos: return Node.Timestamp(AvroValues.Stamp(Timestamp.FromUnixNanoseconds((long)j), plan.Local));
            case AvroOut.Uuid: return Node.Uuid(Guid.Parse((string)j!));
            case AvroOut.Decimal: return Node.Decimal(new DecimalNumber(new BigInteger(Encoding.Latin1.GetBytes((string)j!), isUnsigned: false, isBigEndian: true), plan.Scale));
            case AvroOut.List:
            {
                var list = Node.List();
                foreach (var item in (JArray)j) list.Add(Convert(item, ((ArraySchema)b0).ItemSchema));
                return list;
            }
            case AvroOut.Map:
            {
                var map = Node.Map();
                foreach (var p in (JObject)j) map.Add(p.Key, Convert(p.Value!, ((MapSchema)b0).ValueSchema));
                return map;
            }
            case AvroOut.Record:
            {
                var rec = (RecordSchema)b0; var o = (JObject)j;
                var map = Node.Map();
                foreach (var f in rec.Fields)
                {
                    var v = o[f.Name] ?? f.DefaultValue ?? throw new FormatException();
                    map.Add(f.Name, Convert(v, f.Schema));
                }
                return map;
            }
        }
        throw new FormatException();
    }

    public const int UnixEpochDay = 719162; // DateOnly.FromDateTime(1970-01-01).DayNumber

    sealed class PairComparer : IEqualityComparer<(AvroSchema, AvroSchema)>
    {
        public bool Equals((AvroSchema, AvroSchema) a, (AvroSchema, AvroSchema) b) => ReferenceEquals(a.Item1, b.Item1) && ReferenceEquals(a.Item2, b.Item2);
        public int GetHashCode((AvroSchema, AvroSchema) p) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.Item1), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.Item2));
    }
}

/// <summary>Conversions between Avro's encodings of logical types and model values.</summary>
internal static class AvroValues
{
    public static Timestamp Stamp(Timestamp t, bool local) => local ? new Timestamp(t.UnixSeconds, t.Nanoseconds, null) : t;

    public static Guid GuidFromBigEndian(ReadOnlySpan<byte> b) => new(b, bigEndian: true);

    public static DecimalNumber DecimalFromBytes(ReadOnlySpan<byte> b, int scale) =>
        new(b.IsEmpty ? BigInteger.Zero : new BigInteger(b, isUnsigned: false, isBigEndian: true), scale);

    public static DateOnly Date(int days) => DateOnly.FromDayNumber(AvroResolver.UnixEpochDay + days);
    public static int Days(DateOnly d) => d.DayNumber - AvroResolver.UnixEpochDay;
}
