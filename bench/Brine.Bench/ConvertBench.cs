using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Brine.Conversion;

namespace Brine.Bench;

/// <summary>
/// Tree-format conversions on one generated document set (~100 MB of JSON records): Brine beside
/// System.Text.Json parsing alone (the floor for JSON reading) and Python's json / yaml.CSafeLoader
/// doing the same conversion. Usage: convert [--mb 100] [--runs 3] [--no-python]. For iterating on the JSON →
/// MessagePack target: convert --quick [--mb 100] [--runs 5] [--probes] [--only N] (see <see cref="Quick"/>).
/// </summary>
public static class ConvertBench
{
    public static int Run(string[] args)
    {
        int mb = IntArg(args, "--mb", 100);
        int runs = IntArg(args, "--runs", 3);
        bool python = !args.Contains("--no-python");
        var dir = Path.Combine(Path.GetTempPath(), "brine-bench-convert");
        Directory.CreateDirectory(dir);
        if (args.Contains("--quick")) return Quick(dir, mb, IntArg(args, "--runs", 5), IntArg(args, "--only", -1), args.Contains("--probes"));
        var results = new List<Measure.Result>();
        // Two sizes: throughput at the full size, and peak memory at a quarter of it, to show it stays flat.
        foreach (var size in new[] { mb / 4, mb })
        {
            var json = Path.Combine(dir, $"records-{size}mb.json");
            if (!File.Exists(json)) Generate(json, size * 1_000_000L);
            var yaml = Path.Combine(dir, $"records-{size}mb.yaml");
            Converter.Convert(json, yaml);
            long jsonBytes = new FileInfo(json).Length, yamlBytes = new FileInfo(yaml).Length;
            string tag = $"{jsonBytes / 1e6:F0} MB JSON";

            results.Add(Time($"parse JSON ({tag})", "System.Text.Json Utf8JsonReader", jsonBytes, runs, () => ParseOnly(json)));
            foreach (var (from, to, bytes) in new[] { (json, "msgpack", jsonBytes), (json, "yaml", jsonBytes), (yaml, "json", yamlBytes), (json, "bson", jsonBytes) })
            {
                var output = Path.Combine(dir, "out." + to);
                var work = $"{Path.GetExtension(from)[1..].ToUpperInvariant()} → {to.ToUpperInvariant()} ({tag})";
                results.Add(Time(work, "Brine", bytes, runs, () => Converter.Convert(from, output, new ConvertOptions { Indent = false })));
                if (to == "msgpack")
                {
                    // The file-to-file row above includes the flush to disk that makes the output durable before it
                    // replaces anything; these show the conversion without it (the stream API), and without any output.
                    var unsynced = Path.Combine(dir, "out-unsynced.msgpack");
                    results.Add(Time(work, "Brine, stream API to a FileStream (no flush to disk)", bytes, runs, () =>
                    { using var o = new FileStream(unsynced, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16); ConvertStreams(from, o, true); }));
                    results.Add(Time(work, "Brine, stream API, output discarded", bytes, runs, () => ConvertStreams(from, Stream.Null, true)));
                    results.Add(Time(work, "Brine, general token path (file to file)", bytes, runs, () => Converter.Convert(from, output, new ConvertOptions { Indent = false, Direct = false })));
                }
                if (python && size == mb)
                    results.Add(PythonRun(work, from, output, to, bytes));
            }
        }
        var md = Measure.Table("Tree conversions", results) + """

Brine runs in this process (peak = this process's VmHWM during the step, reset before it); Python runs
as a child process (`/usr/bin/python3`, C accelerated json and `yaml.CSafeLoader`/`CSafeDumper`,
msgpack's C extension, pymongo's `bson`), timed inside the script, peak from `resource.getrusage`.
MB/s is input bytes per second.
""";
        Measure.Save("convert", md);
        return 0;
    }

    /// <summary>
    /// The JSON → MessagePack target (at least half the speed of the raw parse): the raw parse, the direct path and the
    /// general path run in turn, round after round, so that load from elsewhere on the machine falls on all of them
    /// alike; medians and ratios; nothing saved. --probes adds where the time goes: both paths with the output
    /// discarded, and the direct path to a file without the final flush to disk. --only N runs step N alone (for a profiler).
    /// </summary>
    static int Quick(string dir, int mb, int runs, int only = -1, bool probes = false)
    {
        var json = Path.Combine(dir, $"records-{mb}mb.json");
        if (!File.Exists(json)) Generate(json, mb * 1_000_000L);
        var direct = Path.Combine(dir, "quick-direct.msgpack");
        var general = Path.Combine(dir, "quick-general.msgpack");
        var steps = new (string Name, Action Run)[]
        {
            ("raw Utf8JsonReader parse", () => ParseOnly(json)),
            ("JSON → MessagePack, direct", () => Converter.Convert(json, direct, new ConvertOptions { Indent = false })),
            ("JSON → MessagePack, general path", () => Converter.Convert(json, general, new ConvertOptions { Indent = false, Direct = false })),
        };
        var unsynced = Path.Combine(dir, "quick-unsynced.msgpack");
        if (probes) steps = steps.Concat(new (string Name, Action Run)[]
        {
            ("  direct, output discarded", () => ConvertStreams(json, Stream.Null, true)),
            ("  general, output discarded", () => ConvertStreams(json, Stream.Null, false)),
            ("  direct, file not flushed to disk", () => { using var o = new FileStream(unsynced, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16); ConvertStreams(json, o, true); }),
            ("  direct, plain file, flushed, renamed", () => PlainAtomic(json, direct + ".plain")),
        }).ToArray();
        bool alone = only >= 0;
        if (alone) steps = steps[only..(only + 1)];
        var times = steps.Select(_ => new List<double>()).ToArray();
        foreach (var step in steps) step.Run(); // warm-up
        if (!alone && !File.ReadAllBytes(direct).AsSpan().SequenceEqual(File.ReadAllBytes(general)))
            throw new InvalidOperationException("the direct and general paths wrote different bytes");
        for (int r = 0; r < runs; r++)
            for (int i = 0; i < steps.Length; i++)
            {
                GC.Collect(); GC.WaitForPendingFinalizers();
                var sw = Stopwatch.StartNew();
                steps[i].Run();
                times[i].Add(sw.Elapsed.TotalSeconds);
            }
        double Median(List<double> t) { var s = t.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
        double raw = Median(times[0]);
        Console.WriteLine($"{new FileInfo(json).Length / 1e6:F0} MB JSON, {runs} alternating runs, medians (output identical):");
        for (int i = 0; i < steps.Length; i++)
            Console.WriteLine($"  {steps[i].Name,-36} {Median(times[i]):F3} s  ×{Median(times[i]) / raw:F2} of raw   [{string.Join(" ", times[i].Select(t => t.ToString("F3")))}]");
        return 0;
    }

    /// <summary>What a file → file conversion did before the write-behind output: one thread writes, flushes to disk, renames.</summary>
    static void PlainAtomic(string json, string path)
    {
        var temp = path + ".tmp";
        using (var o = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            ConvertStreams(json, o, true);
            o.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    static void ConvertStreams(string json, Stream output, bool direct)
    {
        using var input = new FileStream(json, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Converter.Convert(input, Converter.Registry.GetByName("json"), output, Converter.Registry.GetByName("msgpack"), new ConvertOptions { Direct = direct });
    }

    static Measure.Result Time(string work, string who, long bytes, int runs, Action action)
    {
        Measure.ResetPeak();
        var s = Measure.Median(runs, action);
        return new Measure.Result(work, who, s, bytes / 1e6 / s, Measure.PeakWorkingSet());
    }

    static void ParseOnly(string path)
    {
        // Streams the file through Utf8JsonReader with a refilled buffer, touching every token.
        using var f = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        var state = new JsonReaderState();
        int kept = 0; long tokens = 0;
        while (true)
        {
            int n = f.Read(buffer, kept, buffer.Length - kept);
            bool final = n == 0;
            var reader = new Utf8JsonReader(buffer.AsSpan(0, kept + n), final, state);
            while (reader.Read()) tokens++;
            if (final) break;
            state = reader.CurrentState;
            int used = (int)reader.BytesConsumed;
            kept = kept + n - used;
            Buffer.BlockCopy(buffer, used, buffer, 0, kept);
            if (kept == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        }
        if (tokens == 0) throw new InvalidOperationException("no tokens");
    }

    const string PythonScript = """
import json, sys, time, resource
src, dst, to = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
if src.endswith('.yaml'):
    import yaml
    with open(src) as f: data = yaml.load(f, Loader=yaml.CSafeLoader)
else:
    with open(src, 'rb') as f: data = json.load(f)
if to == 'json':
    with open(dst, 'w') as f: json.dump(data, f)
elif to == 'yaml':
    import yaml
    with open(dst, 'w') as f: yaml.dump(data, f, Dumper=yaml.CSafeDumper)
elif to == 'msgpack':
    import msgpack
    with open(dst, 'wb') as f: f.write(msgpack.packb(data))
elif to == 'bson':
    import bson
    with open(dst, 'wb') as f:
        for d in data: f.write(bson.encode(d))
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
""";

    static Measure.Result PythonRun(string work, string from, string output, string to, long bytes)
    {
        try
        {
            var parts = Measure.Run("/usr/bin/python3", "-c", PythonScript, from, output + ".py", to).Trim().Split(' ');
            double s = double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            return new Measure.Result(work, "Python 3 (C json / CSafeLoader)", s, bytes / 1e6 / s, long.Parse(parts[1]), "one run");
        }
        catch (Exception e)
        {
            return new Measure.Result(work, "Python 3", double.NaN, double.NaN, 0, "failed: " + e.Message.Split('\n')[0]);
        }
    }

    /// <summary>Realistic user records (nested address, tags, numbers, timestamps), deterministic.</summary>
    public static void Generate(string path, long targetBytes)
    {
        var rng = new Random(42);
        string[] first = { "Anna", "Ben", "Chloé", "Dmitri", "Elif", "François", "Giulia", "Hans", "Inés", "José", "Katarzyna", "Lukas", "María", "Noah", "Olga" };
        string[] last = { "Müller", "Smith", "García", "Rossi", "Dubois", "Schmidt", "López", "Bianchi", "Martin", "Weber" };
        string[] langs = { "de", "en", "es", "fr", "it" };
        string[] cities = { "Berlin", "London", "Madrid", "Paris", "Roma", "Zürich", "Lyon", "Köln" };
        string[] tags = { "admin", "beta", "vip", "newsletter", "mobile", "trial" };
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new Utf8JsonWriter(f);
        w.WriteStartArray();
        long id = 0;
        var start = new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        while (w.BytesCommitted + w.BytesPending < targetBytes)
        {
            id++;
            var fn = first[rng.Next(first.Length)]; var ln = last[rng.Next(last.Length)];
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("name", fn + " " + ln);
            w.WriteString("email", $"{fn.ToLowerInvariant()}.{ln.ToLowerInvariant()}{id}@example.com");
            w.WriteString("language", langs[rng.Next(langs.Length)]);
            w.WriteString("registered_at", start.AddSeconds(rng.NextInt64(0, 300_000_000)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"));
            w.WriteBoolean("active", rng.Next(4) != 0);
            w.WriteNumber("score", Math.Round(rng.NextDouble() * 100, 2));
            w.WriteStartObject("address");
            w.WriteString("street", $"{rng.Next(1, 200)} {ln}strasse");
            w.WriteString("city", cities[rng.Next(cities.Length)]);
            w.WriteString("zip", rng.Next(10000, 99999).ToString());
            w.WriteEndObject();
            w.WriteStartArray("tags");
            for (int i = rng.Next(0, 4); i > 0; i--) w.WriteStringValue(tags[rng.Next(tags.Length)]);
            w.WriteEndArray();
            w.WriteEndObject();
            if (id % 10_000 == 0) w.Flush();
        }
        w.WriteEndArray();
    }

    static int IntArg(string[] args, string name, int def)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : def;
    }
}
