using System.Text;
using System.Text.Json;
using Brine.Formats;
using Brine.Formats.Json;
using Brine.Model;

namespace Brine.Bench;

/// <summary>
/// JSON reading and JSON → JSON beside System.Text.Json (a bare Utf8JsonReader loop, JsonDocument) and CPython's
/// json, on a generated array of user records. Usage: <c>json [records]</c> (default 300,000 ≈ 50 MB).
/// </summary>
public static class JsonSuite
{
    public static int Run(string[] args)
    {
        int records = args.Length > 0 ? int.Parse(args[0]) : 300_000;
        var path = Path.Combine(Path.GetTempPath(), $"brine-bench-users-{records}.json");
        if (!File.Exists(path)) Generate(path, records);
        var bytes = File.ReadAllBytes(path);
        double mb = bytes.Length / 1e6;
        var results = new List<Measure.Result>();
        void Add(string work, string who, Action action, string note = "")
        {
            Measure.ResetPeak();
            double s = Measure.Median(3, action);
            results.Add(new Measure.Result(work, who, s, mb / s, Measure.PeakWorkingSet(), note));
        }

        Add("read (tokens only)", "Utf8JsonReader loop", () => { var r = new Utf8JsonReader(bytes); while (r.Read()) { } });
        Add("read (tokens and strings)", "Utf8JsonReader + GetString", () =>
        {
            var r = new Utf8JsonReader(bytes);
            while (r.Read()) if (r.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) r.GetString();
        });
        Add("read (every value)", "Brine JsonTokenReader", () =>
        {
            using var fs = File.OpenRead(path);
            using var r = new JsonFormat().CreateReader(fs, ReadOptions.Default);
            while (r.Read()) { }
        }, "from the file, reference prescan included");
        Add("JSON → JSON compact", "Brine (pump)", () =>
        {
            using var fs = File.OpenRead(path);
            using var r = new JsonFormat().CreateReader(fs, ReadOptions.Default);
            using var w = new JsonFormat().CreateWriter(Stream.Null, new WriteOptions { Indent = false });
            TokenPump.Copy(r, w);
            w.Finish();
        });
        Add("JSON → JSON compact", "JsonDocument.Parse + WriteTo", () =>
        {
            using var d = JsonDocument.Parse(bytes);
            using var w = new Utf8JsonWriter(Stream.Null);
            d.WriteTo(w);
        }, "whole document in memory");
        try
        {
            var secs = double.Parse(Measure.Run("/usr/bin/python3", "-c",
                "import json,sys,time\nb=open(sys.argv[1],'rb').read()\nts=[]\nfor _ in range(3):\n t=time.perf_counter(); json.loads(b); ts.append(time.perf_counter()-t)\nprint(sorted(ts)[1])", path).Trim(),
                System.Globalization.CultureInfo.InvariantCulture);
            results.Add(new Measure.Result("read (every value)", "CPython json.loads", secs, mb / secs, 0, "peak not measured"));
        }
        catch (Exception e) { Console.Error.WriteLine("python anchor skipped: " + e.Message); }

        Measure.Save("json", Measure.Table($"JSON, {records:N0} user records ({mb:F0} MB)", results));
        return 0;
    }

    static void Generate(string path, int records)
    {
        using var f = new StreamWriter(path, false, new UTF8Encoding(false));
        var langs = new[] { "en", "fr", "de", "es", "it" };
        f.Write("[\n");
        for (int i = 0; i < records; i++)
        {
            if (i > 0) f.Write(",\n");
            f.Write($"  {{\"id\": {i}, \"name\": \"User {i}\", \"email\": \"user{i}@example.com\", \"language\": \"{langs[i % 5]}\", " +
                    $"\"registered_at\": \"2024-01-{i % 28 + 1:D2}T10:{i % 60:D2}:00Z\", \"score\": {i % 1000 * 0.125}, \"active\": {(i % 2 == 0 ? "true" : "false")}, \"tags\": [\"a\", \"b\"]}}");
        }
        f.Write("\n]\n");
    }
}
