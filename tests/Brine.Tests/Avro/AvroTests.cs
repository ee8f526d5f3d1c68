using System.Text;
using System.Text.Json;
using Brine.Conversion;
using Brine.Formats;
using Brine.Formats.Avro;
using Brine.Model;
using Brine.Tabular;
using Brine.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Avro;

/// <summary>Tabular files read as one list of row maps; tests look at the rows.</summary>
internal static class TableRows
{
    public static List<Node> Flatten(List<Node> values) =>
        values.Count == 1 && values[0].IsList ? values[0].Items! : values;

    public static List<Node> Read(string path, string? format = null, ReadOptions? options = null) =>
        Flatten(Converter.ReadNodes(path, format, options));
}

public class AvroInteropTests(ITestOutputHelper output)
{
    static string AvroData(params string[] parts) => TestData.Path_(new[] { "avro", "data" }.Concat(parts).ToArray());

    [Theory]
    [InlineData("weather.avro")]
    [InlineData("weather-deflate.avro")]
    [InlineData("weather-snappy.avro")]
    [InlineData("weather-zstd.avro")]
    public void WeatherFilesDecodeToTheFiveRecordsOfWeatherJson(string file)
    {
        var expected = File.ReadAllLines(AvroData("weather.json")).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var nodes = TableRows.Read(AvroData(file));
        Assert.Equal(expected.Count, nodes.Count);
        for (int i = 0; i < nodes.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty("station").GetString(), nodes[i]["station"]!.AsString);
            Assert.Equal(expected[i].GetProperty("time").GetInt64(), nodes[i]["time"]!.AsInt64);
            Assert.Equal(expected[i].GetProperty("temp").GetInt64(), nodes[i]["temp"]!.AsInt64);
        }
    }

    [Fact]
    public void WeatherTableMatchesTokens()
    {
        using var f = File.OpenRead(AvroData("weather-snappy.avro"));
        using var t = new AvroFormat().OpenTable(f, new TableReadOptions());
        Assert.Equal(new[] { "station", "time", "temp" }, t.Schema.FieldsList.Select(x => x.Name));
        var batch = t.ReadNext()!;
        Assert.Equal(5, batch.Length);
        Assert.Equal(-619524000000L, ((Apache.Arrow.Int64Array)batch.Column(1)).GetValue(0));
        Assert.Equal(-11, ((Apache.Arrow.Int32Array)batch.Column(2)).GetValue(2));
        Assert.Null(t.ReadNext());
    }

    [Fact]
    public void SortedWeatherHoldsTheSameRecords()
    {
        var a = TableRows.Read(AvroData("weather.avro")).Select(n => $"{n["station"]}|{n["time"]}|{n["temp"]}").Order();
        var b = TableRows.Read(AvroData("weather-sorted.avro")).Select(n => $"{n["station"]}|{n["time"]}|{n["temp"]}").Order();
        Assert.Equal(a, b);
    }

    [Fact]
    public void SyncInMetaReads()
    {
        var nodes = TableRows.Read(AvroData("syncInMeta.avro"));
        output.WriteLine($"syncInMeta.avro: {nodes.Count} records");
        Assert.NotEmpty(nodes);
    }

    [Fact]
    public void EverySchemaFileParses()
    {
        var files = Directory.GetFiles(TestData.Path_("avro", "schemas"), "*.avsc");
        Assert.NotEmpty(files);
        foreach (var f in files) Assert.NotNull(AvroFormat.LoadSchemaFile(f));
        output.WriteLine($"{files.Length}/{files.Length} schemas parse");
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("withUnion")]
    public void CommonSchemasReadAndWriteBack(string name)
    {
        var schema = AvroData("schemas", name, "schema.json");
        var nodes = TableRows.Read(AvroData("schemas", name, "data.avro"), options: new ReadOptions { SchemaPath = schema });
        Assert.NotEmpty(nodes);
        using var tmp = new TempDir();
        var outPath = tmp.File("back.avro");
        Converter.WriteNodes(outPath, nodes, options: new WriteOptions { SchemaPath = schema });
        var again = TableRows.Read(outPath);
        Assert.Equal(nodes.Count, again.Count);
        for (int i = 0; i < nodes.Count; i++) Assert.Null(NodeComparer.Difference(nodes[i], again[i]));
    }
}

public class AvroPythonTests
{
    internal const string UserSchema = """
    {"type": "record", "name": "User", "namespace": "example", "fields": [
      {"name": "id", "type": "long"},
      {"name": "name", "type": "string"},
      {"name": "email", "type": "string"},
      {"name": "language", "type": {"type": "enum", "name": "Language", "symbols": ["en", "fr", "de", "es", "ja"]}},
      {"name": "registered_at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
    ]}
    """;

    internal static List<Node> Users(int n)
    {
        var langs = new[] { "en", "fr", "de", "es", "ja" };
        var list = new List<Node>();
        for (int i = 0; i < n; i++)
        {
            var m = Node.Map();
            m.Add("id", Node.Int(i + 1));
            m.Add("name", Node.String($"User {i} Ünïcode"));
            m.Add("email", Node.String($"user{i}@example.com"));
            m.Add("language", Node.String(langs[i % 5]));
            m.Add("registered_at", Node.Timestamp(Timestamp.FromUnixMilliseconds(1_600_000_000_000L + i * 3_600_123L)));
            list.Add(m);
        }
        return list;
    }

    const string PyDump = """
import sys, json, avro.datafile, avro.io
with open(sys.argv[1], 'rb') as f:
    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
    print(r.meta['avro.codec'].decode())
    for rec in r:
        print(json.dumps(rec, default=lambda o: o.isoformat() if hasattr(o, 'isoformat') else str(o), sort_keys=True))
""";

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    [InlineData("zstandard")]
    public void PythonReadsWhatBrineWrites(string codec)
    {
        // Debian's python3-avro reads null and deflate; python3-snappy and python3-zstandard are not installed,
        // so for those codecs Brine's own reader (tested against Apache's interop files) checks the output.
        bool pythonHas = codec is "null" or "deflate";
        using var tmp = new TempDir();
        var schema = tmp.File("user.avsc");
        File.WriteAllText(schema, UserSchema);
        var path = tmp.File("users.avro");
        var users = Users(3000);
        Converter.WriteNodes(path, users, options: new WriteOptions { SchemaPath = schema, Settings = new Dictionary<string, string> { ["compression"] = codec } });
        var back = TableRows.Read(path);
        Assert.Equal(users.Count, back.Count);
        for (int i = 0; i < users.Count; i++) Assert.Null(NodeComparer.Difference(users[i], back[i]));
        if (!pythonHas) return;
        var lines = Python.Run(PyDump, null, path).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(codec, lines[0]);
        Assert.Equal(users.Count, lines.Length - 1);
        for (int i = 0; i < users.Count; i++)
        {
            var rec = JsonDocument.Parse(lines[i + 1]).RootElement;
            Assert.Equal(users[i]["id"]!.AsInt64, rec.GetProperty("id").GetInt64());
            Assert.Equal(users[i]["name"]!.AsString, rec.GetProperty("name").GetString());
            Assert.Equal(users[i]["language"]!.AsString, rec.GetProperty("language").GetString());
            var ts = (Timestamp)users[i]["registered_at"]!.Value!;
            Assert.Equal(ts.ToDateTimeOffset(), DateTimeOffset.Parse(rec.GetProperty("registered_at").GetString()!));
        }
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    public void BrineReadsWhatPythonWrites(string codec)
    {
        using var tmp = new TempDir();
        var path = tmp.File("py.avro");
        Python.Run("""
import sys, datetime, decimal, uuid, avro.datafile, avro.io, avro.schema
schema = avro.schema.parse(sys.argv[2])
with open(sys.argv[1], 'wb') as f:
    w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=sys.argv[3])
    for i in range(2500):
        w.append({'id': i, 'name': 'n%d' % i, 'email': None if i % 3 == 0 else 'e%d@x.org' % i, 'score': i / 4.0,
                  'tags': ['a', 'b'][: i % 3], 'attrs': {'k': i}, 'day': datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
                  'amount': decimal.Decimal('%d.25' % i), 'uid': str(uuid.UUID(int=i)),
                  'at': datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=i),
                  'clock': datetime.time(12, 30, i % 60), 'raw': bytes([i % 256]), 'color': ['RED', 'GREEN'][i % 2]})
    w.close()
""", null, path, """
{"type": "record", "name": "Row", "fields": [
  {"name": "id", "type": "int"}, {"name": "name", "type": "string"}, {"name": "email", "type": ["null", "string"]},
  {"name": "score", "type": "double"}, {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "attrs", "type": {"type": "map", "values": "long"}}, {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}}, {"name": "raw", "type": "bytes"},
  {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}}]}
""", codec);
        var nodes = TableRows.Read(path);
        Assert.Equal(2500, nodes.Count);
        var r = nodes[7];
        Assert.Equal(7L, r["id"]!.AsInt64);
        Assert.Equal("e7@x.org", r["email"]!.AsString);
        Assert.Equal(TokenKind.Null, nodes[6]["email"]!.Kind);
        Assert.Equal(1.75, (double)r["score"]!.Value!);
        Assert.Single(r["tags"]!.Items!);
        Assert.Equal(7L, r["attrs"]!["k"]!.AsInt64);
        Assert.Equal(new DateOnly(2020, 1, 8), (DateOnly)r["day"]!.Value!);
        Assert.True(((DecimalNumber)r["amount"]!.Value!).ValueEquals(DecimalNumber.Parse("7.25")));
        Assert.Equal(new Guid("00000000-0000-0000-0000-000000000007"), (Guid)r["uid"]!.Value!);
        Assert.Equal(new Timestamp(1714521600, 7000), (Timestamp)r["at"]!.Value!);
        Assert.Equal(new TimeOnly(12, 30, 7), (TimeOnly)r["clock"]!.Value!);
        Assert.Equal(new byte[] { 7 }, (byte[])r["raw"]!.Value!);
        Assert.Equal("GREEN", r["color"]!.AsString);

        // The same file as a table: an Avro map has no column type (a clear error naming it); arrays become lists.
        using var f = File.OpenRead(path);
        var ex = Assert.Throws<BrineFormatException>(() => new AvroFormat().OpenTable(f, new TableReadOptions()));
        Assert.Contains("attrs", ex.Message);
        f.Position = 0;
        using var t = new AvroFormat().OpenTable(f, new TableReadOptions { Columns = new[] { "id", "email", "amount", "at", "day", "uid", "tags" } });
        long rows = 0;
        while (t.ReadNext() is { } b)
        {
            if (rows == 0)
            {
                Assert.True(b.Column(1).IsNull(0));
                Assert.Equal(7.25m, ((Apache.Arrow.Decimal128Array)b.Column(2)).GetValue(7));
                Assert.Equal("00000000-0000-0000-0000-000000000007", ((Apache.Arrow.StringArray)b.Column(5)).GetString(7));
                var tags = (Apache.Arrow.ListArray)b.Column(6);
                Assert.Equal(2, tags.GetValueLength(8));
                Assert.Equal("b", ((Apache.Arrow.StringArray)tags.Values).GetString(tags.ValueOffsets[8] + 1));
            }
            rows += b.Length;
        }
        Assert.Equal(2500, rows);
    }
}

public class AvroEvolutionTests
{
    const string V2 = """
    {"type": "record", "name": "User", "namespace": "example", "fields": [
      {"name": "id", "type": "long"},
      {"name": "name", "type": "string"},
      {"name": "language", "type": {"type": "enum", "name": "Language", "symbols": ["en", "fr", "de", "es", "ja", "it"]}},
      {"name": "registered_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
      {"name": "vip", "type": "boolean", "default": false}
    ]}
    """;

    static string WriteUsers(TempDir tmp, int n = 100)
    {
        var schema = tmp.File("user.avsc");
        File.WriteAllText(schema, AvroPythonTests.UserSchema);
        var path = tmp.File("users.avro");
        Converter.WriteNodes(path, AvroPythonTests.Users(n), options: new WriteOptions { SchemaPath = schema });
        return path;
    }

    [Fact]
    public void ReaderSchemaDropsAndAddsFields()
    {
        using var tmp = new TempDir();
        var path = WriteUsers(tmp);
        var v2 = tmp.File("v2.avsc");
        File.WriteAllText(v2, V2);
        var nodes = TableRows.Read(path, options: new ReadOptions { SchemaPath = v2 });
        Assert.Equal(100, nodes.Count);
        foreach (var n in nodes)
        {
            Assert.Null(n["email"]);
            Assert.Equal(false, n["vip"]!.Value);
            Assert.Equal(new[] { "id", "name", "language", "registered_at", "vip" }, n.Entries!.Select(e => e.Key.AsString));
        }
        // Python's avro agrees.
        var py = Python.Run("""
import sys, json, avro.datafile, avro.io, avro.schema
rs = avro.schema.parse(open(sys.argv[2]).read())
with open(sys.argv[1], 'rb') as f:
    for rec in avro.datafile.DataFileReader(f, avro.io.DatumReader(readers_schema=rs)):
        print(json.dumps(sorted(rec.keys())), rec['vip'])
        break
""", null, path, v2);
        Assert.Contains("\"vip\"", py);
        Assert.DoesNotContain("email", py);
        // And the table path gives the same columns.
        using var f = File.OpenRead(path);
        using var t = new AvroFormat().OpenTable(f, new TableReadOptions { SchemaPath = v2 });
        Assert.Equal(new[] { "id", "name", "language", "registered_at", "vip" }, t.Schema.FieldsList.Select(x => x.Name));
        var b = t.ReadNext()!;
        Assert.False(((Apache.Arrow.BooleanArray)b.Column(4)).GetValue(3));
    }

    [Fact]
    public void PromotionsApply()
    {
        using var tmp = new TempDir();
        var path = WriteUsers(tmp, 10);
        var rs = tmp.File("promo.avsc");
        File.WriteAllText(rs, """{"type":"record","name":"User","namespace":"example","fields":[{"name":"id","type":"double"},{"name":"name","type":"bytes"}]}""");
        var nodes = TableRows.Read(path, options: new ReadOptions { SchemaPath = rs });
        Assert.Equal(1.0, nodes[0]["id"]!.Value);
        Assert.Equal(Encoding.UTF8.GetBytes("User 0 Ünïcode"), (byte[])nodes[0]["name"]!.Value!);
    }

    [Theory]
    [InlineData("""{"name":"email","type":"int"}""", "email", "string")]
    [InlineData("""{"name":"age","type":"int"}""", "age", "no default")]
    public void IncompatibleSchemasNameTheField(string field, string name, string detail)
    {
        using var tmp = new TempDir();
        var path = WriteUsers(tmp, 5);
        var rs = tmp.File("bad.avsc");
        File.WriteAllText(rs, $$"""{"type":"record","name":"User","namespace":"example","fields":[{"name":"id","type":"long"},{{field}}]}""");
        var ex = Assert.Throws<BrineFormatException>(() => TableRows.Read(path, options: new ReadOptions { SchemaPath = rs }));
        Assert.Contains($"'{name}'", ex.Message);
        Assert.Contains(detail, ex.Message);
    }

    [Fact]
    public void MissingEnumSymbolUsesTheReadersDefault()
    {
        using var tmp = new TempDir();
        var path = WriteUsers(tmp, 10);
        var rs = tmp.File("enum.avsc");
        File.WriteAllText(rs, """{"type":"record","name":"User","namespace":"example","fields":[{"name":"language","type":{"type":"enum","name":"Language","symbols":["en","other"],"default":"other"}}]}""");
        var langs = TableRows.Read(path, options: new ReadOptions { SchemaPath = rs }).Select(n => n["language"]!.AsString).ToList();
        Assert.Equal(new[] { "en", "other", "other", "other", "other", "en" }, langs.Take(6));
    }
}

public class AvroErrorTests
{
    static byte[] UsersFile(TempDir tmp)
    {
        var schema = tmp.File("user.avsc");
        File.WriteAllText(schema, AvroPythonTests.UserSchema);
        var path = tmp.File("users.avro");
        Converter.WriteNodes(path, AvroPythonTests.Users(5000), options: new WriteOptions { SchemaPath = schema, Settings = new Dictionary<string, string> { ["compression"] = "null" } });
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void TruncatedFileGivesBytePositionAndNoOutput()
    {
        using var tmp = new TempDir();
        var bytes = UsersFile(tmp);
        var bad = tmp.File("cut.avro");
        File.WriteAllBytes(bad, bytes[..(bytes.Length - 100)]);
        var outPath = tmp.File("out.arrow");
        var ex = Assert.Throws<BrineFormatException>(() => Converter.Convert(bad, outPath));
        Assert.Contains("byte", ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.False(File.Exists(outPath));
        // No temporary file is left beside it either.
        Assert.Equal(new[] { "cut.avro", "user.avsc", "users.avro" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void CorruptSyncMarkerGivesBytePosition()
    {
        using var tmp = new TempDir();
        var bytes = UsersFile(tmp);
        // The sync marker is the header's last 16 bytes; flip the copy that ends the first block.
        var sync = FindSync(bytes);
        int second = IndexOf(bytes, sync, FindHeaderEnd(bytes, sync));
        bytes[second + 3] ^= 0xFF;
        var bad = tmp.File("sync.avro");
        File.WriteAllBytes(bad, bytes);
        var outPath = tmp.File("out.avro");
        var ex = Assert.Throws<BrineFormatException>(() => Converter.Convert(bad, outPath, new ConvertOptions { To = "avro" }));
        Assert.Contains($"byte {second}", ex.Message);
        Assert.Contains("sync marker", ex.Message);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void NotAnAvroFile()
    {
        var ex = Assert.Throws<BrineFormatException>(() => new AvroFormat().CreateReader(new MemoryStream("hello world"u8.ToArray()), ReadOptions.Default).Read());
        Assert.Contains("Obj", ex.Message);
    }

    static byte[] FindSync(byte[] file)
    {
        // Parse the header with Brine's reader, then take the 16 bytes before the first block.
        var r = new AvroContainerReader(new MemoryStream(file), 1 << 30);
        r.NextBlock(new AvroDecoder());
        int headerEnd = (int)r.BlockStart;
        return file[(headerEnd - 16)..headerEnd];
    }

    static int FindHeaderEnd(byte[] file, byte[] sync) => IndexOf(file, sync, 0) + 16;

    static int IndexOf(byte[] hay, byte[] needle, int from) => hay.AsSpan(from).IndexOf(needle) + from;
}

public class AvroModelTests
{
    [Fact]
    public void InferredSchemaRoundTripsEveryKind()
    {
        var rows = new List<Node>();
        for (int i = 0; i < 50; i++)
        {
            var m = Node.Map("models.Thing");
            m.Add("i", Node.Int(i));
            m.Add("f", Node.Float(i + 0.5));
            m.Add("b", Node.Bool(i % 2 == 0));
            m.Add("s", i % 5 == 0 ? Node.Null() : Node.String("s" + i));
            m.Add("bytes", Node.Bytes(new byte[] { (byte)i, 0, 255 }));
            m.Add("d", Node.Decimal(new DecimalNumber(i * 1001, 3)));
            m.Add("ts", Node.Timestamp(Timestamp.FromUnixMicroseconds(1_700_000_000_000_000 + i)));
            m.Add("date", Node.Date(new DateOnly(2024, 2, 29).AddDays(i)));
            m.Add("time", Node.Time(new TimeOnly(23, 59, 59).Add(TimeSpan.FromTicks(-i * 10))));
            m.Add("uuid", Node.Uuid(Guid.NewGuid()));
            m.Add("list", Node.List(Node.Int(1), Node.Int(i)));
            var inner = Node.Map(); inner.Add("x", Node.Int(i)); inner.Add("y", Node.String("y"));
            m.Add("nested", inner);
            m.Add("mixed", i % 2 == 0 ? Node.Int(i) : Node.String("odd"));
            rows.Add(m);
        }
        using var tmp = new TempDir();
        var path = tmp.File("things.avro");
        Converter.WriteNodes(path, rows);
        var back = TableRows.Read(path);
        Assert.Equal(rows.Count, back.Count);
        var opts = new NodeComparer.Options { CompareTags = false, NumbersByValue = true };
        for (int i = 0; i < rows.Count; i++) Assert.Null(NodeComparer.Difference(rows[i], back[i], opts));
        // Python reads the inferred schema too.
        var py = Python.Run("""
import sys, avro.datafile, avro.io, avro.schema
with open(sys.argv[1], 'rb') as f:
    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
    print(avro.schema.parse(r.meta['avro.schema'].decode()).fullname, sum(1 for _ in r))
""", null, path);
        Assert.Equal("models.Thing 50", py.Trim());
    }

    [Fact]
    public void DeepRecursiveDataNeedsNoStack()
    {
        int depth = int.Parse(Environment.GetEnvironmentVariable("DEEP") ?? "200000");
        using var tmp = new TempDir();
        var schema = tmp.File("list.avsc");
        File.WriteAllText(schema, """{"type":"record","name":"Cell","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Cell"]}]}""");
        var root = Node.Map();
        var cur = root;
        for (int i = 0; i < depth; i++)
        {
            cur.Add("v", Node.Int(i));
            if (i == depth - 1) { cur.Add("next", Node.Null()); break; }
            var next = Node.Map();
            cur.Add("next", next);
            cur = next;
        }
        var path = tmp.File("deep.avro");
        Converter.WriteNodes(path, new[] { root }, options: new WriteOptions { SchemaPath = schema });
        using var f = File.OpenRead(path);
        using var r = new AvroFormat().CreateReader(f, ReadOptions.Default);
        int maxDepth = 0, d = 0; long tokens = 0;
        while (r.Read())
        {
            tokens++;
            if (r.Kind == TokenKind.StartMap) maxDepth = Math.Max(maxDepth, ++d);
            else if (r.Kind == TokenKind.EndMap) d--;
        }
        Assert.Equal(depth, maxDepth);
    }

    [Fact]
    public void WriterRefusesValuesThatDoNotFit()
    {
        using var tmp = new TempDir();
        var schema = tmp.File("user.avsc");
        File.WriteAllText(schema, AvroPythonTests.UserSchema);
        var users = AvroPythonTests.Users(3);
        users[2].Entries![3] = new(Node.String("language"), Node.String("klingon"));
        var ex = Assert.Throws<BrineFormatException>(() => Converter.WriteNodes(tmp.File("x.avro"), users, options: new WriteOptions { SchemaPath = schema }));
        Assert.Contains("record 2", ex.Message);
        Assert.Contains("klingon", ex.Message);
        Assert.False(File.Exists(tmp.File("x.avro")));
    }
}

public class AvroNestedTableTests
{
    [Fact]
    public void RecordsAndArraysBecomeStructAndListColumns()
    {
        using var tmp = new TempDir();
        var schema = tmp.File("s.avsc");
        File.WriteAllText(schema, """
        {"type":"record","name":"Order","fields":[
          {"name":"id","type":"long"},
          {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"name","type":"string"},{"name":"since","type":{"type":"int","logicalType":"date"}}]}},
          {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
          {"name":"note","type":["null",{"type":"array","items":"string"}],"default":null}]}
        """);
        var rows = new List<Node>();
        for (int i = 0; i < 30; i++)
        {
            var c = Node.Map(); c.Add("name", Node.String("c" + i)); c.Add("since", Node.Date(new DateOnly(2020, 1, 1).AddDays(i)));
            var lines = Node.List();
            for (int k = 0; k < i % 3; k++) { var l = Node.Map(); l.Add("sku", Node.String($"s{k}")); l.Add("qty", Node.Int(k + 1)); lines.Add(l); }
            var r = Node.Map(); r.Add("id", Node.Int(i)); r.Add("customer", c); r.Add("lines", lines);
            r.Add("note", i % 2 == 0 ? Node.Null() : Node.List(Node.String("x")));
            rows.Add(r);
        }
        var avro = tmp.File("orders.avro");
        Converter.WriteNodes(avro, rows, options: new WriteOptions { SchemaPath = schema });
        // Avro → Arrow goes table to table; the nested columns survive and read back as the same records.
        var arrow = tmp.File("orders.arrow");
        Converter.Convert(avro, arrow);
        var back = TableRows.Read(arrow);
        Assert.Equal(rows.Count, back.Count);
        var opts = new NodeComparer.Options { NumbersByValue = true };
        for (int i = 0; i < rows.Count; i++) Assert.Null(NodeComparer.Difference(rows[i], back[i], opts));
    }
}

public class AvroCorruptionTests
{
    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    public void DamagedFilesFailWithFormatErrorsOnly(string codec)
    {
        using var tmp = new TempDir();
        var schema = tmp.File("user.avsc");
        File.WriteAllText(schema, AvroPythonTests.UserSchema);
        var path = tmp.File("users.avro");
        Converter.WriteNodes(path, AvroPythonTests.Users(300), options: new WriteOptions { SchemaPath = schema, Settings = new Dictionary<string, string> { ["compression"] = codec } });
        var good = File.ReadAllBytes(path);
        var rng = new Random(7);
        int failures = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            var bad = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int k = 0; k < flips; k++) bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
            if (trial % 10 == 0) bad = bad[..rng.Next(bad.Length)];
            foreach (var table in new[] { false, true })
            {
                try
                {
                    using var ms = new MemoryStream(bad);
                    if (table)
                    {
                        using var t = new AvroFormat().OpenTable(ms, new TableReadOptions());
                        while (t.ReadNext() is not null) { }
                    }
                    else
                    {
                        using var r = new AvroFormat().CreateReader(ms, ReadOptions.Default);
                        while (r.Read()) { }
                    }
                }
                catch (BrineFormatException) { failures++; }
            }
        }
        Assert.True(failures > 0);
    }
}
