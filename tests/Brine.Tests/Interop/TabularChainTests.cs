using Brine.Conversion;
using Brine.Fake;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Interop;

/// <summary>Tables through every tabular format: the values and types each format allows survive.</summary>
public class TabularChainTests
{
    [Fact]
    public void Csv_to_parquet_to_avro_to_arrow_to_csv_keeps_every_value()
    {
        using var dir = new TempDir();
        var csv = dir.File("users.csv");
        new UserFaker(7).WriteFile(csv, 5_000);
        var chain = new[] { "users.parquet", "users.avro", "users.arrow", "back.csv" };
        var previous = csv;
        foreach (var next in chain)
        {
            Converter.Convert(previous, dir.File(next));
            previous = dir.File(next);
        }
        // Same text, byte for byte: ids, names, e-mails, languages and microsecond timestamps all came back.
        Assert.Equal(File.ReadAllText(csv), File.ReadAllText(dir.File("back.csv")));

        // And every step kept the types: the Arrow file's rows equal the CSV's typed rows.
        var fromCsv = Converter.ReadNodes(csv).Single();
        foreach (var step in chain[..3])
        {
            var rows = Converter.ReadNodes(dir.File(step)).Single();
            Assert.Null(NodeComparer.Difference(fromCsv, rows));
        }
        var first = fromCsv[0];
        Assert.Equal(TokenKind.Int, first["id"]!.Kind);
        Assert.Equal(TokenKind.Timestamp, first["registered_at"]!.Kind);
    }

    [Fact]
    public void Records_from_a_tree_format_become_a_table_and_back()
    {
        using var dir = new TempDir();
        var jsonl = dir.File("users.jsonl");
        new UserFaker(3).WriteFile(jsonl, 2_000);
        foreach (var format in new[] { "parquet", "avro", "arrow", "csv" })
        {
            var table = dir.File("users." + format);
            var back = dir.File("back-" + format + ".jsonl");
            Converter.Convert(jsonl, table);
            Converter.Convert(table, back);
            Assert.Equal(File.ReadAllText(jsonl), File.ReadAllText(back));
        }
    }

    [Fact]
    public void A_filter_on_any_table_equals_the_same_filter_on_records()
    {
        using var dir = new TempDir();
        var csv = dir.File("users.csv");
        new UserFaker(11).WriteFile(csv, 3_000);
        const string where = "language IN ('fr', 'it') AND id >= 100 AND NOT (name < 'M')";
        var expected = dir.File("expected.jsonl");
        Converter.Convert(csv, dir.File("all.jsonl"));
        Converter.Convert(dir.File("all.jsonl"), expected, new ConvertOptions { Where = where, Select = new[] { "id", "name" } });
        var want = File.ReadAllText(expected);
        Assert.NotEmpty(want);
        foreach (var format in new[] { "csv", "parquet", "avro", "arrow" })
        {
            var table = dir.File("t." + format);
            if (format != "csv") Converter.Convert(csv, table);
            var got = dir.File("got-" + format + ".jsonl");
            Converter.Convert(format == "csv" ? csv : table, got, new ConvertOptions { Where = where, Select = new[] { "id", "name" } });
            Assert.Equal(want, File.ReadAllText(got));
        }
    }
}
