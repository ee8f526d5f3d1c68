using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Formats.Parquet;
using Brine.Model;
using Brine.Tabular;
using Brine.Tabular.Filtering;
using Brine.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Parquet;

/// <summary>
/// The filtered Parquet read that decodes only the kept rows must give exactly what an unfiltered read filtered
/// afterwards gives, and what the Arrow reader's path gives, for every operator, type, null and projection.
/// </summary>
public class SelectiveScanTests(ITestOutputHelper output)
{
    static readonly string[] Words = { "de", "en", "fr", "", "ü", "Zz", "日本", "fr " };
    // No nulls and no empty values: its dictionary pages take the direct path of the per-distinct-value filter.
    static readonly string[] Languages = { "de", "en", "fr", "ü", "日本", "fr " };

    /// <summary>Every supported column type with nulls; some columns repetitive (dictionary-encoded), some mostly distinct
    /// (written with DELTA_BINARY_PACKED and DELTA_LENGTH_BYTE_ARRAY).</summary>
    static RecordBatch Table(Random rnd, int n)
    {
        var schema = new Schema.Builder()
            .Field(new Field("id", Int64Type.Default, false))
            .Field(new Field("i", Int64Type.Default, true))
            .Field(new Field("n32", Int32Type.Default, true))
            .Field(new Field("d", DoubleType.Default, true))
            .Field(new Field("f", FloatType.Default, true))
            .Field(new Field("s", StringType.Default, true))
            .Field(new Field("name", StringType.Default, true))
            .Field(new Field("t", new TimestampType(TimeUnit.Microsecond, "UTC"), true))
            .Field(new Field("day", Date32Type.Default, true))
            .Field(new Field("b", BooleanType.Default, true))
            .Field(new Field("bin", BinaryType.Default, true))
            .Field(new Field("lang", StringType.Default, false))
            .Build();
        var cols = schema.FieldsList.Select(f => ColumnBuilder.Create(f.DataType)).ToArray();
        for (int r = 0; r < n; r++)
        {
            bool nul() => rnd.Next(8) == 0;
            cols[0].Append((long)r * 3);
            cols[1].Append(nul() ? null : (object)(long)rnd.Next(-20, 20));
            cols[2].Append(nul() ? null : (object)(long)rnd.Next(-1_000_000, 1_000_000));
            cols[3].Append(nul() ? null : (object)(rnd.Next(-40, 40) / 4.0));
            cols[4].Append(nul() ? null : (object)(rnd.Next(-40, 40) / 4.0));
            cols[5].Append(nul() ? null : Words[rnd.Next(Words.Length)]);
            cols[6].Append(nul() ? null : $"{"AÖñ日z"[rnd.Next(5)]}{rnd.Next(100_000)}é");
            cols[7].Append(nul() ? null : (object)new Timestamp(1_700_000_000 + rnd.Next(0, 100) * 3600 + rnd.Next(3600), rnd.Next(1000) * 1000));
            cols[8].Append(nul() ? null : (object)new DateOnly(2024, 1, 1).AddDays(rnd.Next(60)));
            cols[9].Append(nul() ? null : (object)(rnd.Next(2) == 0));
            cols[10].Append(nul() ? null : new[] { (byte)rnd.Next(3), (byte)rnd.Next(256) });
            cols[11].Append(Languages[rnd.Next(Languages.Length)]);
        }
        return new RecordBatch(schema, cols.Select(c => c.Build()).ToArray(), n);
    }

    static string Time(Random rnd) => DateTimeOffset.FromUnixTimeSeconds(1_700_000_000 + rnd.Next(-2, 102) * 3600).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    static string Leaf(Random rnd)
    {
        string[] ops = { "=", "!=", "<", "<=", ">", ">=" };
        string op = ops[rnd.Next(ops.Length)];
        string word() => Words[rnd.Next(Words.Length)].Replace("'", "''");
        return rnd.Next(16) switch
        {
            14 => $"lang {op} '{word()}'",
            15 => $"lang {(rnd.Next(2) == 0 ? "" : "NOT ")}IN ('{word()}', '{word()}')",
            0 => $"i {op} {rnd.Next(-22, 22)}",
            1 => $"id {op} {rnd.Next(-5, 9100)}",
            2 => $"n32 {op} {rnd.Next(-1_100_000, 1_100_000)}",
            3 => $"d {op} {rnd.Next(-44, 44) / 4.0:0.##}",
            4 => $"f {op} {rnd.Next(-44, 44) / 4.0:0.##}",
            5 => $"s {op} '{word()}'",
            6 => $"name {op} '{"AÖñ日z"[rnd.Next(5)]}{rnd.Next(100)}'",
            7 => $"t {op} TIMESTAMP '{Time(rnd)}'",
            8 => $"t {op} '{Time(rnd)}'",
            9 => $"day {op} DATE '2024-{1 + rnd.Next(2):00}-{1 + rnd.Next(28):00}'",
            10 => $"{new[] { "i", "d", "s", "name", "t", "day", "b", "bin", "n32", "f", "lang" }[rnd.Next(11)]} IS {(rnd.Next(2) == 0 ? "" : "NOT ")}NULL",
            11 => $"i {(rnd.Next(2) == 0 ? "" : "NOT ")}IN ({rnd.Next(-20, 20)}, {rnd.Next(-20, 20)}, {rnd.Next(-20, 20)})",
            12 => $"s {(rnd.Next(2) == 0 ? "" : "NOT ")}IN ('{word()}', '{word()}')",
            _ => $"b = {(rnd.Next(2) == 0 ? "TRUE" : "FALSE")}",
        };
    }

    static string Expression(Random rnd, int depth)
    {
        if (depth > 2 || rnd.Next(3) == 0) return Leaf(rnd);
        return rnd.Next(3) switch
        {
            0 => $"({Expression(rnd, depth + 1)}) AND ({Expression(rnd, depth + 1)})",
            1 => $"({Expression(rnd, depth + 1)}) OR ({Expression(rnd, depth + 1)})",
            _ => $"NOT ({Expression(rnd, depth + 1)})",
        };
    }

    /// <summary>Rows with binary cells as hex, so that rows compare by value.</summary>
    static List<object?[]> Comparable(List<object?[]> rows) =>
        rows.Select(r => r.Select(v => v is byte[] b ? Convert.ToHexString(b) : v).ToArray()).ToList();

    static string Write(TempDir dir, RecordBatch table, int rowGroup, string name = "t.parquet")
    {
        var path = dir.File(name);
        using var f = File.Create(path);
        using var w = new ParquetFormat().CreateTable(f, table.Schema, new TableWriteOptions { Settings = new Dictionary<string, string> { ["row_group_size"] = rowGroup.ToString() } });
        w.Write(table);
        w.Finish();
        return path;
    }

    [Theory]
    [InlineData(4321, 256)]
    [InlineData(77, 1000)]
    [InlineData(5, 97)]
    public void EqualsFilteringAnUnfilteredReadAfterwards(int seed, int rowGroup)
    {
        using var dir = new TempDir();
        var rnd = new Random(seed);
        var table = Table(rnd, 3000);
        var path = Write(dir, table, rowGroup);
        var schema = table.Schema;
        var all = Comparable(ParquetTests.BrineRows(path));
        Assert.Equal(3000, all.Count);
        var names = schema.FieldsList.Select(f => f.Name).ToArray();
        int nonEmpty = 0;
        for (int k = 0; k < 400; k++)
        {
            var where = Expression(rnd, 0);
            // Projections that omit the filter's columns, include them, reorder, or take everything.
            string[]? columns = rnd.Next(4) == 0 ? null : names.OrderBy(_ => rnd.Next()).Take(1 + rnd.Next(4)).ToArray();
            int batchSize = rnd.Next(3) == 0 ? 100 + rnd.Next(300) : 65_536;
            var expr = BoundFilter.Bind(where, schema).Expression;
            var expected = all.Where(r => BoundFilter.Matches(expr, c => r[schema.GetFieldIndex(BoundFilter.FieldOf(c, schema).Name)]))
                .Select(r => columns is null ? r : columns.Select(c => r[schema.GetFieldIndex(c)]).ToArray()).ToList();
            if (expected.Count > 0) nonEmpty++;

            using (var selective = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = where, Columns = columns, BatchSize = batchSize }))
            {
                Assert.True(selective.RowGroupsRead == 0 || selective.UsesSelectiveScan, where);
                Assert.Equal(columns ?? names, selective.Schema.FieldsList.Select(f => f.Name));
                var got = Comparable(ParquetTests.Collect(selective));
                Assert.True(expected.Count == got.Count, $"{where} [{string.Join(",", columns ?? names)}]: expected {expected.Count} rows, got {got.Count}");
                Assert.Equal(expected, got);
            }
            using (var arrow = new ParquetTableReader(File.OpenRead(path), new TableReadOptions
            {
                Where = where, Columns = columns, BatchSize = batchSize, Settings = new Dictionary<string, string> { ["scan"] = "arrow" },
            }))
            {
                Assert.False(arrow.UsesSelectiveScan);
                Assert.Equal(expected, Comparable(ParquetTests.Collect(arrow)));
            }
        }
        output.WriteLine($"400 random filters agree; {nonEmpty} had rows");
        Assert.True(nonEmpty > 100);
    }

    [Fact]
    public void DuckDbReadsTheDeltaEncodings()
    {
        using var dir = new TempDir();
        var path = Write(dir, Table(new Random(17), 3000), 1000);
        var encodings = ParquetTests.DuckRows($"SELECT path_in_schema, string_agg(DISTINCT encodings, ';') FROM parquet_metadata('{path}') GROUP BY 1")
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Contains("DELTA_BINARY_PACKED", encodings["id"]);
        Assert.Contains("DELTA_BINARY_PACKED", encodings["t"]);
        Assert.Contains("DELTA_BINARY_PACKED", encodings["n32"]);
        Assert.Contains("DELTA_LENGTH_BYTE_ARRAY", encodings["name"]);
        var duck = ParquetTests.DuckRows($"SELECT id, n32, name, epoch_us(t), s FROM read_parquet('{path}') ORDER BY id");
        var brine = ParquetTests.BrineRows(path);
        Assert.Equal(brine.Count, duck.Count);
        for (int i = 0; i < duck.Count; i++)
        {
            Assert.Equal(brine[i][0], duck[i][0]);
            Assert.Equal(brine[i][2] is null ? (long?)null : Convert.ToInt64(brine[i][2]), duck[i][1] is null ? (long?)null : Convert.ToInt64(duck[i][1]));
            Assert.Equal(brine[i][6], duck[i][2]);
            Assert.Equal((brine[i][7] as Timestamp?)?.ToUnixMicroseconds(), duck[i][3] is null ? (long?)null : Convert.ToInt64(duck[i][3]));
            Assert.Equal(brine[i][5], duck[i][4]);
        }
    }

    [Fact]
    public void KeepsRowGroupOrderAndTypesFromStreamsAndFiles()
    {
        using var dir = new TempDir();
        var table = Table(new Random(99), 5000);
        var path = Write(dir, table, 100);
        const string where = "s IN ('fr', 'ü', '日本') AND t IS NOT NULL";
        var expected = Comparable(ParquetTests.BrineRows(path, new TableReadOptions { Where = where, Settings = new Dictionary<string, string> { ["scan"] = "arrow" } }));
        Assert.True(expected.Count > 500);
        // A file (native readers, two threads), a stream that cannot seek (copied to memory, two threads), a plain memory stream.
        var inputs = new Func<Stream>[]
        {
            () => File.OpenRead(path),
            () => new Brine.Tests.MessagePack.BinaryCodec.ForwardOnlyStream(new MemoryStream(File.ReadAllBytes(path))),
            () => new MemoryStream(File.ReadAllBytes(path)),
        };
        foreach (var open in inputs)
        {
            using var r = new ParquetFormat().OpenTable(open(), new TableReadOptions { Where = where });
            Assert.True(((ParquetTableReader)r).UsesSelectiveScan);
            var batches = new List<RecordBatch>();
            while (r.ReadNext() is { } b) batches.Add(b);
            for (int c = 0; c < table.ColumnCount; c++)
                foreach (var b in batches) Assert.Equal(table.Schema.FieldsList[c].DataType.TypeId, b.Column(c).Data.DataType.TypeId);
            var rows = batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => Enumerable.Range(0, b.ColumnCount).Select(c => ArrowCells.Get(b.Column(c), i)).ToArray())).ToList();
            Assert.Equal(expected, Comparable(rows));
            foreach (var b in batches) b.Dispose();
        }
    }

    [Fact]
    public void TableQueryLeavesTheFilterColumnsToTheReader()
    {
        using var dir = new TempDir();
        var table = Table(new Random(8), 3000);
        var path = Write(dir, table, 500);
        const string where = "s = 'ü' OR s IS NULL";
        var all = Comparable(ParquetTests.BrineRows(path));
        var expr = BoundFilter.Bind(where, table.Schema).Expression;
        var expected = all.Where(r => BoundFilter.Matches(expr, c => r[table.Schema.GetFieldIndex(c)])).Select(r => new[] { r[6], r[0] }).ToList();
        using var q = TableQuery.Open(new ParquetFormat(), File.OpenRead(path), new TableReadOptions { Where = where, Columns = new[] { "name", "id" } });
        var inner = (ParquetTableReader)((FilteredTableReader)q).Inner;
        Assert.True(inner.UsesSelectiveScan);
        Assert.Equal(new[] { "name", "id" }, inner.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(expected, Comparable(ParquetTests.Collect(q)));
    }

    [Fact]
    public void SplitsALargeRowGroupIntoPartsInOrder()
    {
        using var dir = new TempDir();
        var path = Write(dir, Table(new Random(31), 6000), 6000);
        const string where = "b = TRUE OR name >= 'z'";
        var expected = Comparable(ParquetTests.BrineRows(path, new TableReadOptions { Where = where, Columns = new[] { "id", "t", "b" }, Settings = new Dictionary<string, string> { ["scan"] = "arrow" } }));
        Assert.True(expected.Count > 2000);
        using var r = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = where, Columns = new[] { "id", "t", "b" }, BatchSize = 128 });
        Assert.Equal(1, r.RowGroupsRead);
        Assert.True(r.UsesSelectiveScan);
        var got = new List<object?[]>();
        while (r.ReadNext() is { } b)
            using (b)
            {
                Assert.True(b.Length <= 128);
                for (int i = 0; i < b.Length; i++) got.Add(Enumerable.Range(0, b.ColumnCount).Select(c => ArrowCells.Get(b.Column(c), i)).ToArray());
            }
        Assert.Equal(expected, Comparable(got));
    }

    [Fact]
    public void EmptyResultsAndEarlyDispose()
    {
        using var dir = new TempDir();
        var path = Write(dir, Table(new Random(5), 3000), 256);
        using (var none = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = "s = 'none of these'", Columns = new[] { "name", "id" } }))
        {
            Assert.True(none.UsesSelectiveScan);
            Assert.Null(none.ReadNext());
            Assert.Equal(new[] { "name", "id" }, none.Schema.FieldsList.Select(f => f.Name));
        }
        // Disposing with row groups still being decoded must not fail or leak batches.
        using (var partial = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = "i >= 0", BatchSize = 50 }))
        {
            using var first = partial.ReadNext();
            Assert.NotNull(first);
        }
    }

    [Fact]
    public void FallsBackForNestedColumns()
    {
        using var dir = new TempDir();
        var rows = Node.List();
        for (int i = 0; i < 50; i++)
            rows.Add(Node.Map().Add("id", Node.Int(i)).Add("tags", Node.List(Node.String("t" + i % 3))).Add("lang", Node.String(i % 2 == 0 ? "fr" : "de")));
        var path = dir.File("nested.parquet");
        Brine.Conversion.Converter.WriteNodes(path, new[] { rows });
        using var projected = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = "lang = 'fr'", Columns = new[] { "id" } });
        Assert.True(projected.UsesSelectiveScan);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (object?)(long)(i * 2)), ParquetTests.Collect(projected).Select(r => r[0]));
        using var nested = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = "lang = 'fr'" });
        Assert.False(nested.UsesSelectiveScan);
        Assert.Equal(25, ParquetTests.Collect(nested).Count);
    }
}
