using Apache.Arrow;
using Brine.Conversion;
using Brine.Fake;
using Brine.Formats.Parquet;
using Brine.Model;
using Brine.Tabular;
using Brine.Tabular.Filtering;
using Brine.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Tabular;

public class FilterTests(ITestOutputHelper output)
{
    static readonly Schema Users = UserFaker.Schema;

    [Fact]
    public void ParsesTheGrammar()
    {
        var e = FilterExpression.Parse("language = 'fr' AND (id < 10 OR NOT id >= 20) AND name IS NOT NULL AND email NOT IN ('a', 'b''c') AND registered_at > TIMESTAMP '2020-01-01'");
        Assert.Equal(new[] { "language", "id", "name", "email", "registered_at" }, e.Columns);
        var flipped = (Comparison)FilterExpression.Parse("5 < id");
        Assert.Equal(CompareOp.Gt, flipped.Op);
    }

    [Theory]
    [InlineData("id = ", 6, "expected a value")]
    [InlineData("id = 'fr", 6, "unterminated quote")]
    [InlineData("(id = 1", 8, "missing ')'")]
    [InlineData("id ~ 3", 4, "unexpected character")]
    [InlineData("id = 1 language = 'x'", 8, "unexpected 'language'")]
    public void SyntaxErrorsNameThePosition(string text, int position, string detail)
    {
        var e = Assert.Throws<FilterSyntaxException>(() => FilterExpression.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(detail, e.Message);
        Assert.Contains($"position {position}", e.Message);
    }

    [Fact]
    public void UnknownColumnListsTheColumns()
    {
        var e = Assert.Throws<BrineUsageException>(() => BoundFilter.Bind("lang = 'fr'", Users));
        Assert.Equal("--where: unknown column 'lang'; the columns are: id, name, email, language, registered_at", e.Message);
        var t = Assert.Throws<BrineUsageException>(() => BoundFilter.Bind("id = 'x'", Users));
        Assert.Contains("holds numbers", t.Message);
    }

    [Fact]
    public void TimestampLiteralsAndIsoStrings()
    {
        var batch = new UserFaker(5).Batches(2000).First();
        var at = (Apache.Arrow.TimestampArray)batch.Column(4);
        var mask1 = BoundFilter.Bind("registered_at >= TIMESTAMP '2020-01-01'", Users).Select(batch);
        var mask2 = BoundFilter.Bind("registered_at >= '2020-01-01T00:00:00Z'", Users).Select(batch);
        Assert.Equal(mask1, mask2);
        var cut = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() * 1_000_000;
        for (int i = 0; i < batch.Length; i++) Assert.Equal(at.GetValue(i) >= cut, mask1[i]);
    }

    /// <summary>A small table with nulls in every column, as CSV-like rows.</summary>
    static RecordBatch SmallTable(Random rnd, int n)
    {
        var b = new Schema.Builder()
            .Field(new Field("i", Apache.Arrow.Types.Int64Type.Default, true))
            .Field(new Field("d", Apache.Arrow.Types.DoubleType.Default, true))
            .Field(new Field("s", Apache.Arrow.Types.StringType.Default, true))
            .Field(new Field("t", new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, "UTC"), true))
            .Field(new Field("b", Apache.Arrow.Types.BooleanType.Default, true))
            .Build();
        var cols = b.FieldsList.Select(f => ColumnBuilder.Create(f.DataType)).ToArray();
        string[] words = { "de", "en", "es", "fr", "it", "", "ü", "Zz" };
        for (int r = 0; r < n; r++)
        {
            bool nul() => rnd.Next(8) == 0;
            cols[0].Append(nul() ? null : (object)(long)rnd.Next(-20, 20));
            cols[1].Append(nul() ? null : (object)(rnd.Next(-40, 40) / 4.0));
            cols[2].Append(nul() ? null : words[rnd.Next(words.Length)]);
            cols[3].Append(nul() ? null : (object)new Timestamp(1_700_000_000 + rnd.Next(0, 100) * 3600, 0));
            cols[4].Append(nul() ? null : (object)(rnd.Next(2) == 0));
        }
        return new RecordBatch(b, cols.Select(c => c.Build()).ToArray(), n);
    }

    static string RandomExpression(Random rnd, int depth)
    {
        if (depth > 2 || rnd.Next(3) == 0)
        {
            string[] ops = { "=", "!=", "<", "<=", ">", ">=" };
            string op = ops[rnd.Next(ops.Length)];
            switch (rnd.Next(8))
            {
                case 0: return $"i {op} {rnd.Next(-22, 22)}";
                case 1: return $"d {op} {rnd.Next(-44, 44) / 4.0:0.##}";
                case 2: return $"s {op} '{new[] { "de", "en", "fr", "", "z", "ü" }[rnd.Next(6)]}'";
                case 3: return $"t {op} TIMESTAMP '{DateTimeOffset.FromUnixTimeSeconds(1_700_000_000 + rnd.Next(-2, 102) * 3600):yyyy-MM-ddTHH:mm:ssZ}'";
                case 4: return $"{"idstb"[rnd.Next(5)]} IS {(rnd.Next(2) == 0 ? "" : "NOT ")}NULL";
                case 5: return $"i {(rnd.Next(2) == 0 ? "" : "NOT ")}IN ({rnd.Next(-20, 20)}, {rnd.Next(-20, 20)})";
                case 6: return $"b = {(rnd.Next(2) == 0 ? "TRUE" : "FALSE")}";
                default: return $"s IN ('fr', 'de')";
            }
        }
        return rnd.Next(3) switch
        {
            0 => $"({RandomExpression(rnd, depth + 1)}) AND ({RandomExpression(rnd, depth + 1)})",
            1 => $"({RandomExpression(rnd, depth + 1)}) OR ({RandomExpression(rnd, depth + 1)})",
            _ => $"NOT ({RandomExpression(rnd, depth + 1)})",
        };
    }

    [Fact]
    public void PushdownAlwaysEqualsFilteringAfterwards()
    {
        using var dir = new TempDir();
        var rnd = new Random(1234);
        var batch = SmallTable(rnd, 400);
        // Sort by i so that row groups have narrow ranges and skipping happens.
        var order = Enumerable.Range(0, batch.Length).OrderBy(r => ArrowCells.Get(batch.Column(0), r) as long? ?? long.MinValue).ToArray();
        var sorted = new RecordBatch(batch.Schema, Enumerable.Range(0, batch.ColumnCount).Select(c => BatchSelection.Take(batch.Column(c), order)).ToArray(), batch.Length);
        var path = dir.File("small.parquet");
        using (var f = File.Create(path))
        using (var w = new ParquetFormat().CreateTable(f, sorted.Schema, new TableWriteOptions { Settings = new Dictionary<string, string> { ["row_group_size"] = "40" } }))
        {
            w.Write(sorted);
            w.Finish();
        }
        var all = ParquetReaderRows(path, null);
        int skippedTotal = 0;
        for (int k = 0; k < 300; k++)
        {
            var where = RandomExpression(rnd, 0);
            var expr = BoundFilter.Bind(where, sorted.Schema).Expression;
            var expected = all.Where(r => BoundFilter.Matches(expr, c => r[sorted.Schema.GetFieldIndex(c)])).ToList();
            using var reader = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = where });
            skippedTotal += reader.RowGroupsSkipped;
            var got = Tests.Parquet.ParquetTests.Collect(reader);
            Assert.True(expected.Count == got.Count, $"{where}: expected {expected.Count} rows, got {got.Count}");
            Assert.Equal(expected, got);
            // the same filter on a non-Parquet table (batch evaluation without pushdown)
            var viaBatch = BoundFilter.Bind(where, sorted.Schema).Select(sorted).Count(m => m);
            Assert.Equal(expected.Count, viaBatch);
        }
        output.WriteLine($"300 random filters agree; {skippedTotal} row groups skipped in all");
        Assert.True(skippedTotal > 0);
    }

    static List<object?[]> ParquetReaderRows(string path, string? where)
    {
        using var reader = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = where });
        return Tests.Parquet.ParquetTests.Collect(reader);
    }

    [Fact]
    public void FiltersAndProjectsTreeRecords()
    {
        var list = Node.List();
        for (int i = 0; i < 10; i++) list.Add(Node.Map().Add("id", Node.Int(i)).Add("lang", Node.String(i % 2 == 0 ? "fr" : "de")).Add("x", Node.Float(i / 2.0)));
        using var r = new RecordFilterReader(new NodeReader(list), "lang = 'fr' AND id >= 4", new[] { "id" });
        var back = NodeBuilder.ReadAll(r).Single();
        Assert.Equal(new long[] { 4, 6, 8 }, back.Items!.Select(n => n["id"]!.AsInt64));
        Assert.All(back.Items!, n => Assert.Single(n.Entries!));
        using var bad = new RecordFilterReader(new NodeReader(list), "nope = 1", null);
        var e = Assert.Throws<BrineUsageException>(() => NodeBuilder.ReadAll(bad));
        Assert.Contains("id, lang, x", e.Message);
    }
}

public class RowsAndFakerTests(ITestOutputHelper output)
{
    [Fact]
    public void FakerIsDeterministicAndLocalized()
    {
        var a = new UserFaker(11).Batches(300).ToList();
        var b = new UserFaker(11).Batches(300).ToList();
        var c = new UserFaker(12).Batches(300).ToList();
        string Dump(List<RecordBatch> bs) => string.Join("\n", bs.SelectMany(x => Enumerable.Range(0, x.Length).Select(i => string.Join("|", Enumerable.Range(0, 5).Select(k => ArrowCells.Get(x.Column(k), i))))));
        Assert.Equal(Dump(a), Dump(b));
        Assert.NotEqual(Dump(a), Dump(c));
        var langs = new HashSet<string>();
        var batch = a.Single();
        for (int i = 0; i < batch.Length; i++)
        {
            langs.Add(((StringArray)batch.Column(3)).GetString(i));
            Assert.Contains("@", ((StringArray)batch.Column(2)).GetString(i));
            Assert.Equal(i + 1, ((Int64Array)batch.Column(0)).GetValue(i));
        }
        Assert.Equal(UserFaker.Languages.OrderBy(x => x), langs.OrderBy(x => x));
        output.WriteLine(Dump(a).Split('\n')[0]);
    }

    [Fact]
    public void FakerWritesTreeAndTableFormats()
    {
        using var dir = new TempDir();
        new UserFaker(2).WriteFile(dir.File("u.csv"), 100);
        var rows = Converter.ReadNodes(dir.File("u.csv")).Single();
        Assert.Equal(100, rows.Items!.Count);
        Assert.Equal(TokenKind.Timestamp, rows[0]["registered_at"]!.Kind);
        // CSV to Parquet with --where and --select (batches), and back to CSV
        var r = Converter.Convert(dir.File("u.csv"), dir.File("fr.parquet"), new ConvertOptions { Where = "language = 'fr'", Select = new[] { "id", "name" } });
        var fr = Converter.ReadNodes(dir.File("fr.parquet")).Single();
        Assert.Equal(r.Values, fr.Items!.Count);
        Assert.Equal(rows.Items.Count(n => n["language"]!.AsString == "fr"), fr.Items.Count);
        Assert.Equal(new[] { "id", "name" }, fr[0].Entries!.Select(e => (string)e.Key.Value!));
    }

    [Fact]
    public void RowsBecomeATableWithInferredSchema()
    {
        using var dir = new TempDir();
        var list = Node.List();
        list.Add(Node.Map().Add("a", Node.Int(1)).Add("b", Node.Null()).Add("c", Node.String("x")));
        list.Add(Node.Map().Add("a", Node.Float(2.5)).Add("c", Node.Int(3)).Add("d", Node.Bool(true)));
        var path = dir.File("rows.parquet");
        Converter.WriteNodes(path, new[] { list });
        using var reader = new ParquetFormat().OpenTable(File.OpenRead(path), new TableReadOptions());
        Assert.Equal("a: double\nb: string\nc: string\nd: bool\n", TableInspector.SchemaText(reader.Schema));
        var back = Converter.ReadNodes(path).Single();
        Assert.Equal("3", back[1]["c"]!.AsString);
        Assert.Equal(TokenKind.Null, back[0]["d"]!.Kind);

        var notRows = Node.List(Node.Int(1), Node.Int(2));
        var e = Assert.Throws<BrineFormatException>(() => Converter.WriteNodes(dir.File("bad.parquet"), new[] { notRows }));
        Assert.Contains("record 1 is a int64; a table needs a map per row", e.Message.Replace("an int64", "a int64"));
        Assert.False(File.Exists(dir.File("bad.parquet")));
    }

    [Fact]
    public void AvroSchemaGivesColumnTypes()
    {
        var schema = AvroSchemaToArrow.Parse("""
            {"type":"record","name":"User","fields":[
              {"name":"id","type":"long"},{"name":"name","type":["null","string"]},
              {"name":"lang","type":{"type":"enum","name":"Lang","symbols":["de","fr"]}},
              {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
              {"name":"uid","type":{"type":"string","logicalType":"uuid"}},
              {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
              {"name":"tags","type":{"type":"array","items":"string"}},
              {"name":"addr","type":{"type":"record","name":"A","fields":[{"name":"city","type":"string"}]}}]}
            """);
        Assert.Equal("""
            id: int64 not null
            name: string
            lang: dictionary<values=string, indices=int32, ordered=0> not null
            at: timestamp[us, tz=UTC] not null
            uid: extension<arrow.uuid> not null
            price: decimal128(10, 2) not null
            tags: list<item: string not null> not null
            addr: struct<city: string not null> not null

            """.Replace("\r", "").Replace("list<item: string not null>", "list<item: string>"), TableInspector.SchemaText(schema));
    }

    [Fact]
    public void InspectDescribesParquetRowGroups()
    {
        using var dir = new TempDir();
        var path = dir.File("u.parquet");
        new UserFaker(4).WriteFile(path, 5000, settings: new Dictionary<string, string> { ["row_group_size"] = "2000", ["compression"] = "zstd" });
        var d = TableInspector.Describe(path);
        Assert.Equal(5000, d.Rows);
        Assert.Equal(new long[] { 2000, 2000, 1000 }, d.RowGroups.Select(g => g.Rows));
        var id = d.RowGroups[1].Columns[0];
        Assert.Equal("id", id.Path);
        Assert.Equal("zstd", id.Compression);
        Assert.Equal("2001", id.Min);
        Assert.Equal("4000", id.Max);
        var text = TableInspector.Render(d);
        output.WriteLine(text);
        Assert.Contains("registered_at: timestamp[us, tz=UTC] not null", text);
    }
}
