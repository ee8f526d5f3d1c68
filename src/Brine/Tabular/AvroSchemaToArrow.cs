using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;

namespace Brine.Tabular;

/// <summary>
/// Reads an Avro schema (JSON, a record) as the Arrow schema of a table, for <c>--schema</c> on CSV and on
/// rows written as a table. Mapping: boolean, int (int32), long (int64), float, double, bytes, string;
/// <c>["null", T]</c> → nullable T (other unions are refused); enum → dictionary string; array → list;
/// record → struct; fixed → fixed-size binary; logical types decimal, uuid (16-byte fixed binary marked
/// <c>arrow.uuid</c>), date, time-millis/micros, timestamp-millis/micros/nanos (UTC) and
/// local-timestamp-* (no zone). Avro maps have no column form here and are refused.
/// </summary>
public static class AvroSchemaToArrow
{
    public static Schema Load(string path)
    {
        if (!File.Exists(path)) throw new BrineUsageException($"schema file not found: {path}");
        return Parse(File.ReadAllText(path), path);
    }

    public static Schema Parse(string json, string source = "schema")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new BrineFormatException("avro schema", source, "not valid JSON: " + e.Message); }
        using (doc)
        {
            var named = new Dictionary<string, JsonElement>();
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Str(root, "type") != "record")
                throw new BrineFormatException("avro schema", source, "a table schema must be an Avro record");
            var type = (StructType)ToType(root, named, source, 0).Type;
            return new Schema(type.Fields, null);
        }
    }

    static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    static (IArrowType Type, bool Nullable, bool Uuid) ToType(JsonElement e, Dictionary<string, JsonElement> named, string source, int depth)
    {
        if (depth > RowsToTable.MaxDepth) throw new BrineFormatException("avro schema", source, "nested too deeply");
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                {
                    var name = e.GetString()!;
                    var prim = Primitive(name);
                    if (prim is not null) return (prim, false, false);
                    if (named.TryGetValue(name, out var def)) return ToType(def, named, source, depth + 1);
                    throw new BrineFormatException("avro schema", source, $"unknown type '{name}'");
                }
            case JsonValueKind.Array:
                {
                    var branches = e.EnumerateArray().ToList();
                    var nonNull = branches.Where(b => !(b.ValueKind == JsonValueKind.String && b.GetString() == "null")).ToList();
                    if (nonNull.Count == 1)
                    {
                        var t = ToType(nonNull[0], named, source, depth + 1);
                        return (t.Type, t.Nullable || branches.Count > 1, t.Uuid);
                    }
                    throw new BrineFormatException("avro schema", source, "unions other than [\"null\", T] have no column type");
                }
            case JsonValueKind.Object:
                break;
            default:
                throw new BrineFormatException("avro schema", source, "a type must be a name, a union or an object");
        }
        var type = Str(e, "type") ?? throw new BrineFormatException("avro schema", source, "a type object needs \"type\"");
        if (Str(e, "name") is { } typeName)
        {
            named[typeName] = e;
            if (Str(e, "namespace") is { } ns) named[ns + "." + typeName] = e;
        }
        switch (Str(e, "logicalType"))
        {
            case "decimal":
                int precision = e.TryGetProperty("precision", out var p) ? p.GetInt32() : 38;
                int scale = e.TryGetProperty("scale", out var s) ? s.GetInt32() : 0;
                return (new Decimal128Type(Math.Min(precision, 38), scale), false, false);
            case "uuid": return (new FixedSizeBinaryType(16), false, true);
            case "date": return (Date32Type.Default, false, false);
            case "time-millis": return (new Time32Type(TimeUnit.Millisecond), false, false);
            case "time-micros": return (new Time64Type(TimeUnit.Microsecond), false, false);
            case "timestamp-millis": return (new TimestampType(TimeUnit.Millisecond, "UTC"), false, false);
            case "timestamp-micros": return (new TimestampType(TimeUnit.Microsecond, "UTC"), false, false);
            case "timestamp-nanos": return (new TimestampType(TimeUnit.Nanosecond, "UTC"), false, false);
            case "local-timestamp-millis": return (new TimestampType(TimeUnit.Millisecond, (string?)null), false, false);
            case "local-timestamp-micros": return (new TimestampType(TimeUnit.Microsecond, (string?)null), false, false);
            case "local-timestamp-nanos": return (new TimestampType(TimeUnit.Nanosecond, (string?)null), false, false);
        }
        switch (type)
        {
            case "record":
                {
                    var fields = new List<Field>();
                    if (!e.TryGetProperty("fields", out var fs) || fs.ValueKind != JsonValueKind.Array)
                        throw new BrineFormatException("avro schema", source, $"record {Str(e, "name")} has no fields");
                    foreach (var f in fs.EnumerateArray())
                    {
                        var name = Str(f, "name") ?? throw new BrineFormatException("avro schema", source, "a field needs a name");
                        if (!f.TryGetProperty("type", out var ft)) throw new BrineFormatException("avro schema", source, $"field {name} has no type");
                        var t = ToType(ft, named, source, depth + 1);
                        fields.Add(t.Uuid ? ArrowCells.UuidField(name, t.Nullable) : new Field(name, t.Type, t.Nullable));
                    }
                    return (new StructType(fields), false, false);
                }
            case "enum": return (new DictionaryType(Int32Type.Default, StringType.Default, false), false, false);
            case "array":
                {
                    var items = ToType(e.GetProperty("items"), named, source, depth + 1);
                    var field = items.Uuid ? ArrowCells.UuidField("item", items.Nullable) : new Field("item", items.Type, items.Nullable);
                    return (new ListType(field), false, false);
                }
            case "fixed": return (new FixedSizeBinaryType(e.GetProperty("size").GetInt32()), false, false);
            case "map": throw new BrineFormatException("avro schema", source, "Avro maps have no column type here; use a record or an array");
            default:
                var prim = Primitive(type) ?? throw new BrineFormatException("avro schema", source, $"unknown type '{type}'");
                return (prim, false, false);
        }
    }

    static IArrowType? Primitive(string name) => name switch
    {
        "boolean" => BooleanType.Default,
        "int" => Int32Type.Default,
        "long" => Int64Type.Default,
        "float" => FloatType.Default,
        "double" => DoubleType.Default,
        "bytes" => BinaryType.Default,
        "string" => StringType.Default,
        "null" => StringType.Default,
        _ => null,
    };
}
