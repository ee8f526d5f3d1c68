using System.Text;
using Brine.Model;
using Newtonsoft.Json.Linq;

namespace Brine.Formats.Avro;

/// <summary>
/// Infers an Avro writer schema from sample records: maps become records (a field missing or null in any sample
/// becomes <c>["null", T]</c> with default null), lists become arrays, integers long, floats double, decimals
/// bytes/decimal with the largest scale seen, timestamps timestamp-micros, dates date, times time-micros, UUIDs
/// string/uuid. Values of several kinds become a union. The top record is named after the first record's tag.
/// </summary>
internal static class AvroSchemaInference
{
    const int MaxDepth = 64;

    public static string Infer(IReadOnlyList<Node> samples)
    {
        if (samples.Count == 0) throw new BrineFormatException("avro", "", "no records to infer a schema from");
        if (samples.Any(s => !s.IsMap))
            throw new BrineFormatException("avro", "", $"each top-level value must be a map (an Avro record) to infer a schema; found {samples.First(s => !s.IsMap).Kind} (give a schema with --schema to write other values)");
        var name = samples[0].Tag is { Length: > 0 } tag ? SafeFullName(tag) : "Row";
        var used = new HashSet<string>();
        var t = InferType(samples, name, 0, used);
        return t.ToString(Newtonsoft.Json.Formatting.None);
    }

    static JToken InferType(IReadOnlyList<Node> values, string name, int depth, HashSet<string> used)
    {
        if (depth > MaxDepth) throw new BrineFormatException("avro", "", $"values nest deeper than {MaxDepth} levels: give a schema with --schema");
        bool hasNull = false;
        var branches = new List<JToken>();
        var kinds = values.Where(v => v.Kind != TokenKind.Null).GroupBy(v => Group(v.Kind)).ToList();
        hasNull = values.Any(v => v.Kind == TokenKind.Null);
        foreach (var g in kinds)
        {
            var items = g.ToList();
            branches.Add(g.Key switch
            {
                "boolean" => "boolean",
                "number" => items.Any(i => i.Kind == TokenKind.Float) ? "double" : items.Any(i => i.Kind == TokenKind.Decimal) ? DecimalType(items) : "long",
                "string" => "string",
                "bytes" => "bytes",
                "timestamp" => Logical("long", "timestamp-micros"),
                "date" => Logical("int", "date"),
                "time" => Logical("long", "time-micros"),
                "uuid" => Logical("string", "uuid"),
                "list" => new JObject { ["type"] = "array", ["items"] = InferType(items.SelectMany(i => i.Items!).ToList(), name + "_item", depth + 1, used) },
                "map" => RecordType(items, name, depth, used),
                _ => throw new InvalidOperationException(g.Key),
            });
        }
        if (branches.Count == 0) branches.Add("string"); // only nulls seen
        if (!hasNull && branches.Count == 1) return branches[0];
        var union = new JArray();
        if (hasNull) union.Add("null");
        foreach (var b in branches) union.Add(b);
        return union;
    }

    static string Group(TokenKind k) => k switch
    {
        TokenKind.Bool => "boolean",
        TokenKind.Int or TokenKind.Float or TokenKind.Decimal => "number",
        TokenKind.String => "string",
        TokenKind.Bytes => "bytes",
        TokenKind.Timestamp => "timestamp",
        TokenKind.Date => "date",
        TokenKind.Time => "time",
        TokenKind.Uuid => "uuid",
        TokenKind.StartList => "list",
        _ => "map",
    };

    static JObject Logical(string type, string logical) => new() { ["type"] = type, ["logicalType"] = logical };

    static JObject DecimalType(List<Node> items)
    {
        int scale = 0, intDigits = 1;
        foreach (var i in items)
        {
            var d = i.Value is DecimalNumber dn ? dn : new DecimalNumber(i.Value is long l ? l : 0, 0);
            scale = Math.Max(scale, d.Scale);
            int digits = System.Numerics.BigInteger.Abs(d.Unscaled).ToString().Length;
            intDigits = Math.Max(intDigits, digits - d.Scale);
        }
        return new JObject { ["type"] = "bytes", ["logicalType"] = "decimal", ["precision"] = Math.Max(intDigits + scale, 1) + 8, ["scale"] = scale };
    }

    static JObject RecordType(List<Node> maps, string name, int depth, HashSet<string> used)
    {
        var recordName = name;
        for (int i = 2; !used.Add(recordName); i++) recordName = name + i;
        var keys = new List<string>();
        var seen = new HashSet<string>();
        foreach (var m in maps)
            foreach (var e in m.Entries!)
            {
                if (e.Key.Value is not string k) throw new BrineFormatException("avro", "", $"record keys must be strings to infer a schema; found {e.Key.Kind} {e.Key}");
                if (seen.Add(k)) keys.Add(k);
            }
        var fields = new JArray();
        var names = new HashSet<string>();
        foreach (var k in keys)
        {
            var safe = SafeName(k);
            if (!names.Add(safe)) throw new BrineFormatException("avro", "", $"keys '{k}' and another key both become the Avro field name '{safe}'");
            var values = new List<Node>(maps.Count);
            bool missing = false;
            foreach (var m in maps) { var v = m[k]; if (v is null) missing = true; else values.Add(v); }
            if (missing) values.Add(Node.Null());
            var t = InferType(values, recordName + "_" + safe, depth + 1, used);
            var field = new JObject { ["name"] = safe, ["type"] = t };
            if (t is JArray u && u[0].Type == JTokenType.String && (string)u[0]! == "null") field["default"] = JValue.CreateNull();
            fields.Add(field);
        }
        return new JObject { ["type"] = "record", ["name"] = recordName, ["fields"] = fields };
    }

    /// <summary>An Avro name ([A-Za-z_][A-Za-z0-9_]*) for a key: other characters become '_'.</summary>
    public static string SafeName(string key)
    {
        if (key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) return key;
        var sb = new StringBuilder(key.Length + 1);
        if (key.Length == 0 || !(char.IsAsciiLetter(key[0]) || key[0] == '_')) sb.Append('_');
        foreach (var c in key) sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return sb.ToString();
    }

    static string SafeFullName(string tag) => string.Join(".", tag.Split('.').Select(SafeName));
}
