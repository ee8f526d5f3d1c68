using System.Diagnostics;
using System.Text.Json;
using Apache.Arrow;
using Avro.File;
using Avro.Generic;
using Brine.Conversion;
using Brine.Fake;
using Brine.Formats.Avro;
using Brine.Tabular;
using DuckDB.NET.Data;

namespace Brine.Bench;

/// <summary>
/// Avro container files on the users table: Brine's own codec beside Apache.Avro's GenericDatumReader/Writer (the
/// measurement behind choosing a hand-written codec), Python's avro library and, when its extension loads, DuckDB.
/// </summary>
public static class AvroBench
{
    public static int Run(string[] args)
    {
        long rows = 1_000_000; int runs = 3; int pyRows = 100_000;
        bool python = !args.Contains("--no-python");
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--rows") rows = long.Parse(args[i + 1]);
            if (args[i] == "--runs") runs = int.Parse(args[i + 1]);
            if (args[i] == "--python-rows") pyRows = int.Parse(args[i + 1]);
        }
        var dir = Path.Combine(Path.GetTempPath(), "brine-bench-avro");
        Directory.CreateDirectory(dir);
        var csv = Path.Combine(dir, "users.csv");
        var results = new List<Measure.Result>();
        double mb(string p) => new FileInfo(p).Length / 1e6;
        if (!File.Exists(csv) || File.ReadLines(csv).LongCount() != rows + 1) new UserFaker(42).WriteFile(csv, rows);
        double csvMb = mb(csv);
        Console.Error.WriteLine($"users CSV: {rows:N0} rows, {csvMb:F1} MB");
        Measure.Result R(string work, string who, double t, string? file, string note = "") =>
            new(work, who, t, csvMb / t, Measure.PeakWorkingSet(), $"{rows / t:N0} rows/s" + (file is null ? "" : $"; {mb(file):F1} MB out") + (note.Length > 0 ? "; " + note : ""));

        // Encoding alone, from Arrow batches already in memory: Brine's codec beside Apache.Avro's GenericDatumWriter.
        var batches = new UserFaker(42).Batches(rows).ToList();
        var usersSchema = batches[0].Schema;
        var usersJson = AvroArrowSchema.ToAvroJson(usersSchema, "User");
        foreach (var codec in new[] { "null", "deflate", "snappy", "zstandard" })
        {
            var outPath = Path.Combine(dir, $"mem.{codec}.avro");
            Measure.ResetPeak();
            double t = Measure.Median(runs, () =>
            {
                using var o = new FileStream(outPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                using var w = new AvroFormat().CreateTable(o, usersSchema, new TableWriteOptions { Compression = codec });
                foreach (var b in batches) w.Write(b);
                w.Finish();
            });
            results.Add(R($"Arrow batches in memory → Avro ({codec})", "Brine", t, outPath));
        }
        foreach (var codec in new[] { "null", "deflate" })
        {
            var outPath = Path.Combine(dir, $"mem.apache.{codec}.avro");
            Measure.ResetPeak();
            double t = Measure.Median(runs, () => ApacheWrite(batches, usersJson, outPath, codec == "null" ? Codec.CreateCodec(Codec.Type.Null) : Codec.CreateCodec(Codec.Type.Deflate)));
            results.Add(R($"Arrow batches in memory → Avro ({codec})", "Apache.Avro 1.12.2 GenericRecord", t, outPath));
        }
        batches = null;
        GC.Collect();

        // CSV → Avro, Brine (CSV table reader → Avro table writer), each codec.
        foreach (var codec in new[] { "null", "deflate", "snappy", "zstandard" })
        {
            var outPath = Path.Combine(dir, $"brine.{codec}.avro");
            Measure.ResetPeak();
            double t = Measure.Median(runs, () => Converter.Convert(csv, outPath, new ConvertOptions { Settings = new Dictionary<string, string> { ["compression"] = codec } }));
            results.Add(R($"CSV → Avro ({codec})", "Brine", t, outPath));
        }

        // CSV → Avro, Apache.Avro GenericRecord + DataFileWriter over the same CSV batches.
        var schemaJson = AvroArrowSchema.ToAvroJson(ReadSchema(csv), "User");
        foreach (var codec in new[] { "null", "deflate" })
        {
            var outPath = Path.Combine(dir, $"apache.{codec}.avro");
            Measure.ResetPeak();
            double t = Measure.Median(runs, () => ApacheWrite(csv, schemaJson, outPath, codec == "null" ? Codec.CreateCodec(Codec.Type.Null) : Codec.CreateCodec(Codec.Type.Deflate)));
            results.Add(R($"CSV → Avro ({codec})", "Apache.Avro 1.12.2 GenericRecord", t, outPath));
        }

        // Avro → CSV and plain reads.
        foreach (var codec in new[] { "null", "deflate" })
        {
            var avro = Path.Combine(dir, $"brine.{codec}.avro");
            var back = Path.Combine(dir, $"back.{codec}.csv");
            Measure.ResetPeak();
            double t = Measure.Median(runs, () => Converter.Convert(avro, back));
            results.Add(R($"Avro ({codec}) → CSV", "Brine", t, back));
            Measure.ResetPeak();
            t = Measure.Median(runs, () => CountTable(avro));
            results.Add(R($"Avro ({codec}) read to Arrow batches", "Brine", t, null));
            Measure.ResetPeak();
            t = Measure.Median(runs, () => CountTokens(avro));
            results.Add(R($"Avro ({codec}) read as tokens", "Brine", t, null));
            Measure.ResetPeak();
            t = Measure.Median(runs, () => ApacheRead(avro));
            results.Add(R($"Avro ({codec}) read as GenericRecords", "Apache.Avro 1.12.2", t, null));
        }

        // Records as tokens → Avro (the path of JSON Lines, YAML … into Avro), fed by the Avro token reader.
        {
            var src = Path.Combine(dir, "brine.null.avro");
            var outPath = Path.Combine(dir, "tokens.avro");
            var schemaFile = Path.Combine(dir, "users.avsc");
            File.WriteAllText(schemaFile, schemaJson);
            Measure.ResetPeak();
            double t = Measure.Median(runs, () =>
            {
                using var i = File.OpenRead(src);
                using var o = File.Create(outPath);
                using var r = new AvroFormat().CreateReader(i, Brine.Formats.ReadOptions.Default);
                using var w = new AvroFormat().CreateWriter(o, new Brine.Formats.WriteOptions { SchemaPath = schemaFile, Settings = new Dictionary<string, string> { ["compression"] = "null" } });
                Brine.Model.TokenPump.Copy(r, w);
                w.Finish();
            });
            results.Add(R("Avro (null) tokens → Avro (null) token writer", "Brine", t, outPath, "records through the model (tokens → tree → encoder)"));
        }

        // Python's avro (Debian python3-avro 1.11.1, pure Python) on a subset, scaled to the full row count.
        if (python)
            try { results.AddRange(PythonAnchor(dir, csv, schemaJson, pyRows, rows, csvMb)); }
            catch (Exception e) { Console.Error.WriteLine("python anchor skipped: " + e.Message); }

        // DuckDB reads Avro only through its avro extension, which must be downloaded; try it.
        try
        {
            using var duck = new DuckDBConnection("Data Source=:memory:");
            duck.Open();
            using (var c = duck.CreateCommand()) { c.CommandText = "LOAD avro"; c.ExecuteNonQuery(); }
            var avro = Path.Combine(dir, "brine.null.avro");
            var back = Path.Combine(dir, "duck.csv");
            Measure.ResetPeak();
            double t = Measure.Median(runs, () => { using var c = duck.CreateCommand(); c.CommandText = $"COPY (SELECT * FROM read_avro('{avro}')) TO '{back}' (FORMAT csv)"; c.ExecuteNonQuery(); });
            results.Add(R("Avro (null) → CSV", "DuckDB avro extension", t, back));
        }
        catch (Exception e) { Console.Error.WriteLine("duckdb avro skipped: " + e.Message.Split('\n')[0]); results.Add(new("Avro → CSV", "DuckDB", double.NaN, 0, 0, "avro extension not installed (no network here): not measured")); }

        Measure.Save("avro", Measure.Table($"Avro — {rows:N0} users rows ({csvMb:F1} MB CSV), median of {runs}", results));
        return 0;
    }

    static Apache.Arrow.Schema ReadSchema(string csv)
    {
        using var f = File.OpenRead(csv);
        using var t = ((ITableFormat)Converter.Registry.GetByName("csv")).OpenTable(f, new TableReadOptions());
        return t.Schema;
    }

    static void CountTable(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var t = new AvroFormat().OpenTable(f, new TableReadOptions());
        long n = 0;
        while (t.ReadNext() is { } b) n += b.Length;
    }

    static void CountTokens(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var r = new AvroFormat().CreateReader(f, Brine.Formats.ReadOptions.Default);
        long n = 0;
        while (r.Read()) n++;
    }

    static void ApacheWrite(string csv, string schemaJson, string outPath, Codec codec)
    {
        using var input = File.OpenRead(csv);
        using var table = ((ITableFormat)Converter.Registry.GetByName("csv")).OpenTable(input, new TableReadOptions());
        ApacheWrite(Batches(table), schemaJson, outPath, codec);
    }

    static IEnumerable<RecordBatch> Batches(TableReader t) { while (t.ReadNext() is { } b) yield return b; }

    /// <summary>The way Apache.Avro is used: one GenericRecord per row through DataFileWriter.</summary>
    static void ApacheWrite(IEnumerable<RecordBatch> batches, string schemaJson, string outPath, Codec codec)
    {
        var schema = (global::Avro.RecordSchema)global::Avro.Schema.Parse(schemaJson);
        using var output = File.Create(outPath);
        using var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), output, codec);
        var fields = schema.Fields;
        foreach (var batch in batches)
        {
            for (int r = 0; r < batch.Length; r++)
            {
                var rec = new GenericRecord(schema);
                for (int c = 0; c < batch.ColumnCount; c++)
                {
                    object? v = batch.Column(c) switch
                    {
                        Int64Array a => a.GetValue(r),
                        StringArray a => a.GetString(r),
                        TimestampArray a => a.GetTimestamp(r)?.UtcDateTime,
                        DoubleArray a => a.GetValue(r),
                        BooleanArray a => a.GetValue(r),
                        var a => throw new InvalidOperationException(a.Data.DataType.Name),
                    };
                    rec.Add(fields[c].Pos, v);
                }
                writer.Append(rec);
            }
        }
    }

    static void ApacheRead(string path)
    {
        using var f = File.OpenRead(path);
        using var reader = DataFileReader<GenericRecord>.OpenReader(f);
        long n = 0;
        foreach (var rec in reader.NextEntries) n++;
    }

    static IEnumerable<Measure.Result> PythonAnchor(string dir, string csv, string schemaJson, int pyRows, long rows, double csvMb)
    {
        var subsetCsv = Path.Combine(dir, $"users.{pyRows}.csv");
        File.WriteAllLines(subsetCsv, File.ReadLines(csv).Take(pyRows + 1));
        var subsetAvro = Path.Combine(dir, $"brine.{pyRows}.avro");
        Converter.Convert(subsetCsv, subsetAvro, new ConvertOptions { Settings = new Dictionary<string, string> { ["compression"] = "null" } });
        var script = Path.Combine(dir, "py_avro.py");
        File.WriteAllText(script, """
import csv, datetime, json, sys, time, avro.datafile, avro.io, avro.schema
src, schema_json, out, brine_file = sys.argv[1:5]
schema = avro.schema.parse(schema_json)
rows = []
with open(src, newline='') as f:
    for r in csv.DictReader(f):
        rows.append({'id': int(r['id']), 'name': r['name'], 'email': r['email'], 'language': r['language'],
                     'registered_at': datetime.datetime.fromisoformat(r['registered_at'].replace('Z', '+00:00'))})
res = {}
for codec in ('null', 'deflate'):
    t = time.perf_counter()
    with open(out + '.' + codec, 'wb') as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        for r in rows: w.append(r)
        w.close()
    res['write_' + codec] = time.perf_counter() - t
t = time.perf_counter()
with open(brine_file, 'rb') as f:
    n = sum(1 for _ in avro.datafile.DataFileReader(f, avro.io.DatumReader()))
res['read_null'] = time.perf_counter() - t
res['n'] = n
print(json.dumps(res))
""");
        var sw = Stopwatch.StartNew();
        var json = JsonDocument.Parse(Measure.Run("/usr/bin/python3", script, subsetCsv, schemaJson, Path.Combine(dir, "py.avro"), subsetAvro)).RootElement;
        double scale = (double)rows / pyRows;
        string note(string extra) => $"measured on {pyRows:N0} rows, scaled ×{scale:F0}; {rows / (json.GetProperty(extra).GetDouble() * scale):N0} rows/s; peak is Python's, not measured";
        foreach (var codec in new[] { "null", "deflate" })
        {
            double t = json.GetProperty("write_" + codec).GetDouble() * scale;
            yield return new($"CSV rows → Avro ({codec}), write only", "Python avro 1.11.1", t, csvMb / t, 0, note("write_" + codec));
        }
        double tr = json.GetProperty("read_null").GetDouble() * scale;
        yield return new("Avro (null) read as records", "Python avro 1.11.1", tr, csvMb / tr, 0, note("read_null"));
    }
}
