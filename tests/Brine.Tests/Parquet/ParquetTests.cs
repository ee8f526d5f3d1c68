using Apache.Arrow;
using Brine.Conversion;
using Brine.Fake;
using Brine.Formats.Parquet;
using Brine.Model;
using Brine.Tabular;
using Brine.Tests.Support;
using DuckDB.NET.Data;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Parquet;

public class ParquetTests(ITestOutputHelper output)
{
    internal static List<object?[]> DuckRows(string sql)
    {
        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    static void DuckExec(string sql)
    {
        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    internal static List<object?[]> BrineRows(string path, TableReadOptions? options = null)
    {
        using var r = new ParquetFormat().OpenTable(File.OpenRead(path), options ?? new TableReadOptions());
        return Collect(r);
    }

    internal static List<object?[]> Collect(TableReader r)
    {
        var rows = new List<object?[]>();
        while (r.ReadNext() is { } b)
            using (b)
                for (int i = 0; i < b.Length; i++)
                    rows.Add(Enumerable.Range(0, b.ColumnCount).Select(c => ArrowCells.Get(b.Column(c), i)).ToArray());
        return rows;
    }

    [Fact]
    public void DuckDbReadsWhatBrineWrites()
    {
        using var dir = new TempDir();
        var path = dir.File("users.parquet");
        new UserFaker(7).WriteFile(path, 3000);
        var duck = DuckRows($"SELECT id, name, email, language, epoch_us(registered_at) FROM read_parquet('{path}') ORDER BY id");
        var brine = BrineRows(path);
        Assert.Equal(3000, duck.Count);
        for (int i = 0; i < duck.Count; i++)
        {
            Assert.Equal(brine[i][0], duck[i][0]);
            Assert.Equal(brine[i][1], duck[i][1]);
            Assert.Equal(brine[i][2], duck[i][2]);
            Assert.Equal(brine[i][3], duck[i][3]);
            Assert.Equal(((Timestamp)brine[i][4]!).ToUnixMicroseconds(), Convert.ToInt64(duck[i][4]));
        }
        foreach (var codec in new[] { "zstd", "gzip", "none" })
        {
            var p = dir.File(codec + ".parquet");
            new UserFaker(7).WriteFile(p, 500, settings: new Dictionary<string, string> { ["compression"] = codec });
            Assert.Equal(500L, Convert.ToInt64(DuckRows($"SELECT count(*) FROM read_parquet('{p}')")[0][0]));
        }
    }

    [Fact]
    public void BrineReadsWhatDuckDbWrites()
    {
        using var dir = new TempDir();
        var path = dir.File("duck.parquet");
        DuckExec($"COPY (SELECT i AS id, 'n' || i AS name, i / 4.0 AS score, (i % 3 = 0) AS flag, DATE '2024-01-01' + i::INTEGER AS day, " +
                 $"TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) SECOND AS at, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS maybe, " +
                 $"[i, i + 1] AS pair, {{'x': i, 'y': 'v' || i}} AS point FROM range(1000) t(i)) TO '{path}' (FORMAT parquet)");
        var rows = BrineRows(path);
        Assert.Equal(1000, rows.Count);
        var r = rows[10];
        Assert.Equal(10L, r[0]);
        Assert.Equal("n10", r[1]);
        Assert.Equal(new DateOnly(2024, 1, 11), r[4]);
        Assert.Equal("2024-01-01T00:00:10Z", r[5]!.ToString());
        Assert.Null(r[6]);
        Assert.Equal(new List<object?> { 10L, 11L }, (List<object?>)r[7]!);
        var point = (Dictionary<string, object?>)r[8]!;
        Assert.Equal(10L, point["x"]);
        Assert.Equal("v10", point["y"]);
        // and as tokens: a list of row maps
        var nodes = Converter.ReadNodes(path);
        Assert.Equal(1000, nodes.Single().Items!.Count);
    }

    [Fact]
    public void NestedListsAndStructsRoundTrip()
    {
        using var dir = new TempDir();
        var rows = Node.List();
        for (int i = 0; i < 50; i++)
        {
            var tags = Node.List();
            for (int k = 0; k < i % 4; k++) tags.Add(Node.String("t" + k));
            var addr = Node.Map().Add("city", Node.String("c" + i)).Add("zip", i % 7 == 0 ? Node.Null() : Node.Int(1000 + i));
            var matrix = Node.List(Node.List(Node.Int(i), Node.Int(i + 1)), Node.List());
            rows.Add(Node.Map().Add("id", Node.Int(i)).Add("tags", tags).Add("address", addr).Add("matrix", matrix)
                .Add("when", Node.Timestamp(new Timestamp(1_700_000_000 + i, 5000, 0))).Add("uid", Node.Uuid(new Guid(i, 1, 2, new byte[8]))));
        }
        var path = dir.File("nested.parquet");
        Converter.WriteNodes(path, new[] { rows });
        var back = Converter.ReadNodes(path).Single();
        Assert.Null(NodeComparer.Difference(rows, back));
        Assert.Equal(50L, Convert.ToInt64(DuckRows($"SELECT count(*) FROM read_parquet('{path}') WHERE len(tags) >= 0")[0][0]));
    }

    [Fact]
    public void FilterPushdownSkipsRowGroups()
    {
        using var dir = new TempDir();
        var path = dir.File("sorted.parquet");
        new UserFaker(3).WriteFile(path, 10_000, settings: new Dictionary<string, string> { ["row_group_size"] = "1000" });
        using var all = new ParquetTableReader(File.OpenRead(path), new TableReadOptions());
        Assert.Equal(10, all.RowGroupCount);
        using var some = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = "id > 8500 AND id <= 9100", Columns = new[] { "name", "id" } });
        Assert.Equal(2, some.RowGroupsRead);
        var filtered = Collect(some);
        Assert.Equal(600, filtered.Count);
        Assert.Equal(new[] { "name", "id" }, some.Schema.FieldsList.Select(f => f.Name));
        var expected = BrineRows(path).Where(r => (long)r[0]! > 8500 && (long)r[0]! <= 9100).Select(r => new[] { r[1], r[0] }).ToList();
        Assert.Equal(expected, filtered);
        using var none = new ParquetTableReader(File.OpenRead(path), new TableReadOptions { Where = "id > 20000" });
        Assert.Equal(0, none.RowGroupsRead);
        Assert.Empty(Collect(none));
    }

    [Fact]
    public void TruncatedFileIsAClearErrorAndLeavesNoOutput()
    {
        using var dir = new TempDir();
        var path = dir.File("users.parquet");
        new UserFaker(1).WriteFile(path, 2000);
        var bytes = File.ReadAllBytes(path);
        var cut = dir.File("cut.parquet");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<BrineFormatException>(() => Converter.Convert(cut, dir.File("out.csv")));
        Assert.Contains($"byte {bytes.Length / 2 - 4}", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.False(File.Exists(dir.File("out.csv")));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length);
    }

    // parquet-testing files Brine (ParquetSharp 25 / Arrow C++) cannot read; a new failure fails the test.
    // incorrect_map_schema: map keys not annotated as required (Arrow C++ refuses the schema);
    // large_string_map.brotli: a map column over 2 GB of strings, "Nested data conversions not implemented for
    // chunked array outputs" in Arrow C++'s reader.
    static readonly string[] KnownFailures = { "incorrect_map_schema.parquet", "large_string_map.brotli.parquet" };

    [Fact]
    public void ParquetTestingCorpus()
    {
        var dir = TestData.Path_("parquet", "parquet-testing");
        var files = Directory.GetFiles(dir, "*.parquet").OrderBy(f => f).ToList();
        var failures = new List<string>();
        foreach (var f in files)
        {
            // large_string_map.brotli takes ~40 s to decompress before Arrow C++ refuses it: counted as a failure without reading.
            if (Path.GetFileName(f) == "large_string_map.brotli.parquet") { failures.Add(Path.GetFileName(f)); continue; }
            var sw = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                using var r = new ParquetFormat().OpenTable(File.OpenRead(f), new TableReadOptions());
                long n = 0;
                // Every batch is read; the cells of the first rows of each are also converted to row values.
                while (r.ReadNext() is { } b) using (b) { for (int i = 0; i < Math.Min(b.Length, 200); i++) for (int c = 0; c < b.ColumnCount; c++) ArrowCells.Get(b.Column(c), i); n += b.Length; }
            }
            catch (Exception e) { failures.Add(Path.GetFileName(f)); output.WriteLine($"{Path.GetFileName(f)}: {e.GetType().Name}: {e.Message.Split('\n')[0]}"); }
            if (sw.ElapsedMilliseconds > 500) output.WriteLine($"{Path.GetFileName(f)}: {sw.ElapsedMilliseconds} ms");
        }
        output.WriteLine($"parquet-testing: {files.Count - failures.Count}/{files.Count} read; failures: {string.Join(", ", failures)}");
        Assert.Equal(KnownFailures, failures.ToArray());

        var bad = Directory.GetFiles(Path.Combine(dir, "bad_data"), "*.parquet").OrderBy(f => f).ToList();
        var accepted = new List<string>();
        foreach (var f in bad)
        {
            try
            {
                using var r = new ParquetFormat().OpenTable(File.OpenRead(f), new TableReadOptions());
                while (r.ReadNext() is { } b) using (b) { for (int i = 0; i < Math.Min(b.Length, 200); i++) for (int c = 0; c < b.ColumnCount; c++) ArrowCells.Get(b.Column(c), i); }
                accepted.Add(Path.GetFileName(f));
            }
            catch (BrineFormatException e) { output.WriteLine($"bad_data/{Path.GetFileName(f)}: {e.Message.Split('\n')[0]}"); }
        }
        output.WriteLine($"bad_data: {bad.Count - accepted.Count}/{bad.Count} rejected with an error; read without error: {string.Join(", ", accepted)}");
        // ARROW-GH-43605 (an RLE dictionary-index page with bit width 0) is decoded by Arrow C++ since that issue's fix.
        Assert.Equal(new[] { "ARROW-GH-43605.parquet" }, accepted);
    }
}
