using System.Diagnostics;
using Brine.Conversion;
using Brine.Fake;
using Brine.Formats.Parquet;
using Brine.Tabular;
using DuckDB.NET.Data;

namespace Brine.Bench;

/// <summary>
/// The tabular suite: users CSV (made by the faker) to Parquet, filtered and projected Parquet reads, Parquet to
/// CSV — Brine beside DuckDB (DuckDB.NET in this process). Options: --rows N (default 1 000 000), --runs N (3).
/// </summary>
public static class TabularBench
{
    public static int Run(string[] args)
    {
        long rows = 1_000_000; int runs = 3;
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--rows") rows = long.Parse(args[i + 1]);
            if (args[i] == "--runs") runs = int.Parse(args[i + 1]);
        }
        var dir = Path.Combine(Path.GetTempPath(), "brine-bench-tabular");
        Directory.CreateDirectory(dir);
        var csv = Path.Combine(dir, "users.csv");
        var results = new List<Measure.Result>();
        double mb(string p) => new FileInfo(p).Length / 1e6;

        Measure.ResetPeak();
        var sw = Stopwatch.StartNew();
        new UserFaker(42).WriteFile(csv, rows);
        results.Add(new("make users CSV (faker)", "Brine", sw.Elapsed.TotalSeconds, mb(csv) / sw.Elapsed.TotalSeconds, Measure.PeakWorkingSet(), $"{rows / sw.Elapsed.TotalSeconds:N0} rows/s; {mb(csv):F1} MB"));
        Console.Error.WriteLine($"users CSV: {mb(csv):F1} MB");

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        void Sql(string sql) { using var c = duck.CreateCommand(); c.CommandText = sql; c.ExecuteNonQuery(); }
        Sql("SET threads TO 2");

        foreach (var codec in new[] { "snappy", "zstd" })
        {
            var brineOut = Path.Combine(dir, $"brine.{codec}.parquet");
            var duckOut = Path.Combine(dir, $"duck.{codec}.parquet");
            var settings = new Dictionary<string, string> { ["compression"] = codec };
            Measure.ResetPeak();
            double t = Measure.Median(runs, () => Converter.Convert(csv, brineOut, new ConvertOptions { Settings = settings }));
            var groups = new ParquetTableReader(File.OpenRead(brineOut), new TableReadOptions()).RowGroupCount;
            results.Add(new($"CSV → Parquet ({codec})", "Brine", t, mb(csv) / t, Measure.PeakWorkingSet(), $"{rows / t:N0} rows/s; {mb(brineOut):F1} MB out, {groups} row groups"));
            Measure.ResetPeak();
            t = Measure.Median(runs, () => Sql($"COPY (SELECT * FROM read_csv('{csv}')) TO '{duckOut}' (FORMAT parquet, COMPRESSION {codec})"));
            results.Add(new($"CSV → Parquet ({codec})", "DuckDB 2 threads", t, mb(csv) / t, Measure.PeakWorkingSet(), $"{rows / t:N0} rows/s; {mb(duckOut):F1} MB out"));
        }

        var pq = Path.Combine(dir, "brine.snappy.parquet");
        var sorted = Path.Combine(dir, "sorted.parquet");
        Sql($"COPY (SELECT * FROM read_parquet('{pq}') ORDER BY language, id) TO '{sorted}' (FORMAT parquet, ROW_GROUP_SIZE 131072)");
        foreach (var (file, label) in new[] { (pq, "unsorted"), (sorted, "sorted by language") })
        {
            long got = 0; int read = 0, total = 0;
            Measure.ResetPeak();
            double t = Measure.Median(runs * 3, () =>
            {
                using var r = new ParquetTableReader(File.OpenRead(file), new TableReadOptions { Where = "language = 'fr'", Columns = new[] { "id", "name" } });
                got = 0; read = r.RowGroupsRead; total = r.RowGroupCount;
                while (r.ReadNext() is { } b) using (b) got += b.Length;
            });
            results.Add(new($"Parquet read id,name WHERE language='fr' ({label})", "Brine (Arrow batches)", t, mb(file) / t, Measure.PeakWorkingSet(), $"{got:N0} rows; {read}/{total} row groups read"));
            long duckRows = 0;
            Measure.ResetPeak();
            t = Measure.Median(runs * 3, () =>
            {
                using var c = duck.CreateCommand();
                c.CommandText = $"SELECT id, name FROM read_parquet('{file}') WHERE language = 'fr'";
                using var rd = c.ExecuteReader();
                duckRows = 0;
                while (rd.Read()) { rd.GetInt64(0); rd.GetString(1); duckRows++; }
            });
            results.Add(new($"Parquet read id,name WHERE language='fr' ({label})", "DuckDB (streamed to C#)", t, mb(file) / t, Measure.PeakWorkingSet(), $"{duckRows:N0} rows"));
        }

        var backCsv = Path.Combine(dir, "back.csv");
        Measure.ResetPeak();
        double tb = Measure.Median(runs, () => Converter.Convert(pq, backCsv));
        results.Add(new("Parquet → CSV", "Brine", tb, mb(backCsv) / tb, Measure.PeakWorkingSet(), $"{rows / tb:N0} rows/s"));
        Measure.ResetPeak();
        tb = Measure.Median(runs, () => Sql($"COPY (SELECT * FROM read_parquet('{pq}')) TO '{Path.Combine(dir, "duck.csv")}' (FORMAT csv)"));
        results.Add(new("Parquet → CSV", "DuckDB 2 threads", tb, mb(backCsv) / tb, Measure.PeakWorkingSet(), $"{rows / tb:N0} rows/s"));

        var md = Measure.Table($"Tabular: {rows:N0} users", results) +
            "\nMB/s is input megabytes per second. Peak MB is this process's peak resident memory during the step (DuckDB runs in the same process).\n";
        Measure.Save(rows == 1_000_000 ? "tabular" : $"tabular-{rows}", md);
        foreach (var f in Directory.GetFiles(dir)) File.Delete(f);
        return 0;
    }
}
