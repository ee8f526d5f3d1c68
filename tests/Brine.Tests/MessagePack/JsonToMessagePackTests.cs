using Xunit;
using System.Globalization;
using System.Text;
using Brine.Conversion;
using Brine.Formats;
using Brine.Model;
using Brine.Tests.Support;

namespace Brine.Tests.MessagePack;

/// <summary>
/// The direct JSON → MessagePack transcoder against the general path (JSON reader → pump → MessagePack writer):
/// the same bytes, or the same error, for every input; and the direct path is really the one taken.
/// </summary>
public class JsonToMessagePackTests
{
    static readonly Format Json = Converter.Registry.GetByName("json");
    static readonly Format Lines = Converter.Registry.GetByName("jsonl");
    static readonly Format MsgPack = Converter.Registry.GetByName("msgpack");

    sealed record Outcome(byte[]? Bytes, string? Error, long Values, int Completed, int GaveUp)
    {
        public override string ToString() => Error ?? $"{Bytes!.Length} bytes, {Values} values";
    }

    static Outcome Run(byte[] input, bool direct, Format? from = null, ConvertOptions? options = null)
    {
        int completed = JsonToMessagePack.Completed, gaveUp = JsonToMessagePack.GaveUp;
        var output = new MemoryStream();
        var opts = new ConvertOptions
        {
            Direct = direct, Settings = options?.Settings ?? new Dictionary<string, string>(), Read = options?.Read, Refs = options?.Refs ?? RefsMode.Auto,
        };
        try
        {
            var r = Converter.Convert(new MemoryStream(input), from ?? Json, output, MsgPack, opts);
            return new Outcome(output.ToArray(), null, r.Values, JsonToMessagePack.Completed - completed, JsonToMessagePack.GaveUp - gaveUp);
        }
        catch (BrineException e)
        {
            return new Outcome(null, e.GetType().Name + ": " + e.Message, 0, JsonToMessagePack.Completed - completed, JsonToMessagePack.GaveUp - gaveUp);
        }
    }

    /// <summary>Converts both ways and asserts the same result; returns the direct run's outcome.</summary>
    static Outcome Same(byte[] input, Format? from = null, ConvertOptions? options = null, string? name = null)
    {
        var general = Run(input, direct: false, from, options);
        var direct = Run(input, direct: true, from, options);
        Assert.True(general.Completed == 0 && general.GaveUp == 0, "the general path ran the direct one");
        Assert.True(direct.Completed + direct.GaveUp == 1, $"{name}: the direct path was not tried");
        if (general.Error is not null || direct.Error is not null)
            Assert.True(general.Error == direct.Error, $"{name}: general {general}, direct {direct}");
        else
        {
            Assert.True(general.Bytes!.AsSpan().SequenceEqual(direct.Bytes), $"{name}: different bytes ({general.Bytes!.Length} general, {direct.Bytes!.Length} direct); first difference at {FirstDifference(general.Bytes, direct.Bytes!)}");
            Assert.Equal(general.Values, direct.Values);
        }
        return direct;
    }

    static Outcome Same(string json, Format? from = null, ConvertOptions? options = null) => Same(Encoding.UTF8.GetBytes(json), from, options, json.Length <= 80 ? json : json[..80]);

    static int FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return n;
    }

    static string Folder => TestData.Path_("json", "JSONTestSuite");

    [Fact]
    public void JSONTestSuite_accepted_and_implementation_defined_files_give_the_same_bytes()
    {
        var files = Directory.GetFiles(Folder, "*.json").Where(f => Path.GetFileName(f)[0] is 'y' or 'i').OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 100);
        foreach (var f in files)
        {
            var name = Path.GetFileName(f);
            var o = Same(File.ReadAllBytes(f), name: name);
            // Every accepted file goes the direct way; only those the general path refuses go back to it.
            if (name.StartsWith("y_")) Assert.True(o.Error is null && o.Completed == 1, name);
            else Assert.True(o.Completed == 1 || o.Error is not null, name);
        }
    }

    [Fact]
    public void JSONTestSuite_rejected_files_fail_with_the_same_error()
    {
        var files = Directory.GetFiles(Folder, "n_*.json").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 150);
        foreach (var f in files)
        {
            var o = Same(File.ReadAllBytes(f), name: Path.GetFileName(f));
            Assert.True(o.Error is not null, Path.GetFileName(f) + " accepted");
            Assert.Equal(0, o.Completed);
        }
    }

    [Fact]
    public void Records_take_the_direct_path()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < 1000; i++)
            sb.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $$"""{"id":{{i}},"name":"Chlo\u00e9 M\u00fcller {{i}}","city":"Zürich","score":{{i * 0.37:F2}},"active":{{(i % 3 == 0 ? "true" : "false")}},"note":null,"address":{"zip":"{{10000 + i}}"},"tags":["a","b"]}""");
        sb.Append(']');
        var o = Same(sb.ToString());
        Assert.Equal(1, o.Completed);
        Assert.Equal(0, o.GaveUp);
        Assert.Equal(1, o.Values);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("\"x\"")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("1.5")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("[[]]")]
    [InlineData("[{}, [], {\"a\": []}]")]
    [InlineData("{\"a\": {\"b\": [1, 2, {\"c\": null}]}}")]
    [InlineData("\uFEFF[1]")]
    [InlineData("  \n [1] \n\n")]
    [InlineData("[1]\n[2]\n{\"a\": 3}\n\"s\"\n4")]
    [InlineData("1\n2")]
    [InlineData("[\"\\u00e9\\ud83c\\udf7a\\n\\t\\\"\\\\\\/\\b\\f\\r\\u0000\", \"é🍺\", \"\\u20AC\"]")]
    [InlineData("{\"k\\u00e9y\": 1, \"\\\"\": 2, \"\": 3}")]
    [InlineData("[-0, -0.0, 0.0, 0e0, 1E2, 1e-7, 0.1, 123.456, -98.7654321, 1.000000000000001, 0.12345678901234567890, 1e400, -1e-400, 12345678901234567890123.5]")]
    [InlineData("[9223372036854775807, -9223372036854775808, 9223372036854775808, 18446744073709551615, -9223372036854775809, 18446744073709551616]")]
    [InlineData("[127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649]")]
    [InlineData("{\"py/object\": \"x.Y\", \"a\": 1}")]
    [InlineData("[{\"a\": 1}, {\"py/id\": 1}]")]
    [InlineData("[{\"$id\": \"1\", \"a\": 1}, {\"$ref\": \"1\"}]")]
    [InlineData("{\"$id\": \"1\", \"$values\": [1, 2]}")]
    [InlineData("[{\"py\\/id\": 0}]")]
    [InlineData("{\"py/tuple\": [1, 2]}")]
    [InlineData("{\"a\": 1, \"py/id\": 7, \"$ref\": \"x\"}")]
    [InlineData("{\"py/other\": 1, \"$other\": 2, \"$\": 3, \"py\": 4}")]
    [InlineData("\"\\ud800\"")]
    [InlineData("[\"\\udc00\"]")]
    [InlineData("[\"\\ud800\\u0041\"]")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[1, 2")]
    [InlineData("[1] [2]")]
    [InlineData("{\"a\": 1} \"x\"")]
    [InlineData("[1,]")]
    [InlineData("{\"a\" 1}")]
    [InlineData("[1e99999999]")]
    [InlineData("[nul]")]
    public void Small_documents_give_the_same_bytes_or_error(string json) => Same(json);

    [Fact]
    public void Invalid_utf8_gives_the_same_error()
    {
        Same(new byte[] { (byte)'[', (byte)'"', 0xC3, (byte)'"', (byte)']' }, name: "cut character");
        Same(new byte[] { (byte)'[', (byte)'"', 0xFF, (byte)'"', (byte)']' }, name: "0xFF");
        Same(new byte[] { (byte)'[', 0xC3, 0xA9, (byte)']' }, name: "é outside a string");
        Same(new byte[] { (byte)'"', (byte)'\\', (byte)'n', 0xED, 0xA0, 0x80, (byte)'"' }, name: "encoded surrogate");
    }

    [Fact]
    public void Conventions_off_keeps_the_direct_path_for_markers()
    {
        var options = new ConvertOptions { Settings = new Dictionary<string, string> { ["conventions"] = "none" } };
        var o = Same("[{\"py/object\": \"x.Y\", \"a\": 1}, {\"$ref\": \"1\"}, {\"py/id\": 0}]", options: options);
        Assert.Equal(1, o.Completed);
        var withMarkers = Same("[{\"py/object\": \"x.Y\", \"a\": 1}]");
        Assert.Equal(1, withMarkers.GaveUp);
    }

    [Fact]
    public void Reader_limits_are_kept()
    {
        var shallow = new ConvertOptions { Read = new ReadOptions { MaxDepth = 3 } };
        Assert.NotNull(Same("[[[[1]]]]", options: shallow).Error);
        Assert.Null(Same("[[[1]]]", options: shallow).Error);
        var small = new ConvertOptions { Read = new ReadOptions { MaxValueBytes = 1024 } };
        Assert.NotNull(Same("[\"" + new string('x', 300_000) + "\"]", options: small).Error);
        Assert.Null(Same("[\"" + new string('x', 100) + "\"]", options: small).Error);
    }

    [Fact]
    public void Large_containers_get_the_wider_headers()
    {
        foreach (int n in new[] { 15, 16, 255, 256, 65535, 65536, 70000 })
        {
            var list = "[" + string.Join(",", Enumerable.Range(0, n)) + "]";
            var map = "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"k{i}\":{i}")) + "}";
            var strings = "[\"" + new string('é', n / 2) + "\"]";
            Assert.Equal(1, Same(list).Completed);
            Assert.Equal(1, Same("[" + list + "," + map + "]").Completed);
            Assert.Equal(1, Same(map).Completed);
            Assert.Equal(1, Same("{\"a\":" + list + ",\"b\":[" + map + "]}").Completed);
            Assert.Equal(1, Same(strings).Completed);
        }
    }

    [Fact]
    public void Deep_nesting()
    {
        int depth = 5000;
        Assert.Equal(1, Same(new string('[', depth) + new string(']', depth)).Completed);
        var sb = new StringBuilder();
        for (int i = 0; i < depth; i++) sb.Append("{\"a\":[").Append(i).Append(',');
        sb.Append("null");
        for (int i = 0; i < depth; i++) sb.Append("]}");
        Assert.Equal(1, Same(sb.ToString()).Completed);
    }

    [Fact]
    public void Json_lines_give_the_same_bytes()
    {
        Assert.Equal(1, Same("{\"a\": 1}\n{\"b\": [2, \"\\u00e9\"]}\n\n[3]\n", Lines).Completed);
        Same("", Lines);
        Same("{\"a\": 1} {\"b\": 2}\n", Lines);
        Same("{\"a\": 1}\n{\"b\": \n", Lines);
    }

    [Fact]
    public void Random_documents_give_the_same_bytes()
    {
        var rng = new Random(20261127);
        int direct = 0;
        for (int doc = 0; doc < 400; doc++)
        {
            var sb = new StringBuilder();
            int values = rng.Next(5) == 0 ? rng.Next(2, 5) : 1;
            for (int v = 0; v < values; v++)
            {
                if (v > 0) sb.Append(rng.Next(2) == 0 ? "\n" : " \r\n\t ");
                RandomValue(rng, sb, 0);
            }
            var o = Same(sb.ToString());
            Assert.True(o.Error is null, o.Error);
            direct += o.Completed;
        }
        Assert.Equal(400, direct);
    }

    static readonly string[] Numbers =
    {
        "0", "-0", "1", "-1", "127", "128", "-32", "-33", "255", "256", "65535", "65536", "2147483648", "4294967296",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615", "0.5", "-0.0", "3.14159",
        "1e10", "1E+2", "2.5e-3", "123456789012345.6", "0.1000000000000000000001", "1e400", "-1e-400", "1.7976931348623157e308",
        "5e-324", "12345678901234567890.12345", "100000000000000000000000000000.0", "0.000001", "99.99",
    };

    static readonly string[] Strings =
    {
        "", "a", "hello", "Chlo\\u00e9", "Zürich", "🍺", "\\ud83c\\udf7a", "tab\\there", "quote\\\"", "back\\\\slash", "sl\\/ash",
        "\\u0000\\u001f", "日本語テキスト", "py/obj", "$refs", "$i", "py", "x\\u20ACy",
    };

    static void RandomValue(Random rng, StringBuilder sb, int depth)
    {
        int kind = rng.Next(depth > 6 ? 5 : 8);
        switch (kind)
        {
            case 0: sb.Append(Numbers[rng.Next(Numbers.Length)]); break;
            case 1: sb.Append(rng.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture)); break;
            case 2: RandomString(rng, sb); break;
            case 3: sb.Append(rng.Next(3) switch { 0 => "true", 1 => "false", _ => "null" }); break;
            case 4: sb.Append((rng.NextDouble() * Math.Pow(10, rng.Next(-5, 8))).ToString(rng.Next(2) == 0 ? "R" : "F2", CultureInfo.InvariantCulture)); break;
            case 5:
            case 6:
            {
                int n = Size(rng, depth);
                sb.Append('[');
                for (int i = 0; i < n; i++) { if (i > 0) sb.Append(','); RandomValue(rng, sb, depth + 1); }
                sb.Append(']');
                break;
            }
            default:
            {
                int n = Size(rng, depth);
                sb.Append('{');
                for (int i = 0; i < n; i++)
                {
                    if (i > 0) sb.Append(", ");
                    RandomString(rng, sb);
                    sb.Append(':');
                    RandomValue(rng, sb, depth + 1);
                }
                sb.Append('}');
                break;
            }
        }
    }

    static int Size(Random rng, int depth) => rng.Next(10) switch { 0 => 0, 1 => rng.Next(14, 40), 2 when depth < 2 => rng.Next(250, 300), _ => rng.Next(1, depth < 4 ? 6 : 3) };

    static void RandomString(Random rng, StringBuilder sb)
    {
        sb.Append('"');
        int parts = rng.Next(4);
        for (int i = 0; i < parts; i++) sb.Append(Strings[rng.Next(Strings.Length)]);
        if (rng.Next(20) == 0) sb.Append('x', rng.Next(30, 300));
        sb.Append('"');
    }

    [Fact]
    public void Errors_leave_no_output_file()
    {
        var dir = Directory.CreateTempSubdirectory("brine-jsonmp-");
        try
        {
            var input = Path.Combine(dir.FullName, "in.json");
            var output = Path.Combine(dir.FullName, "out.msgpack");
            var sb = new StringBuilder("[");
            for (int i = 0; i < 50_000; i++) sb.Append(CultureInfo.InvariantCulture, $"{{\"id\":{i}}},");
            sb.Append("{\"id\": tru}]");
            File.WriteAllText(input, sb.ToString());
            var e = Assert.Throws<BrineFormatException>(() => Converter.Convert(input, output));
            Assert.Contains("line 1", e.Message);
            Assert.Contains("[50000]", e.Message); // the model path of the bad record
            Assert.Empty(dir.GetFiles("*.msgpack*"));
            Assert.Empty(dir.GetFiles(".*"));

            File.WriteAllText(input, sb.ToString().Replace("tru}", "true}"));
            int completed = JsonToMessagePack.Completed;
            var result = Converter.Convert(input, output);
            Assert.Equal(completed + 1, JsonToMessagePack.Completed);
            Assert.Equal(1, result.Values);
            var nodes = Converter.ReadNodes(output);
            Assert.Equal(50_001, Assert.Single(nodes).Items!.Count);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Large_files_give_the_same_bytes()
    {
        // Several megabytes, written in many blocks, with wide containers (written in segments) among them and
        // several top-level values.
        var dir = Directory.CreateTempSubdirectory("brine-jsonmp-");
        try
        {
            var input = Path.Combine(dir.FullName, "in.json");
            var sb = new StringBuilder("[");
            for (int i = 0; i < 120_000; i++)
                sb.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $$"""{"id":{{i}},"name":"né {{i}}","v":[{{string.Join(",", Enumerable.Range(0, i % 40))}}],"x":{{i * 0.25}}}""");
            sb.Append("]\n{").Append(string.Join(",", Enumerable.Range(0, 70_000).Select(i => $"\"k{i}\":[{i},{{\"a\":{i}}}]"))).Append("}\n[]\n");
            File.WriteAllText(input, sb.ToString());
            var direct = Path.Combine(dir.FullName, "direct.msgpack");
            var general = Path.Combine(dir.FullName, "general.msgpack");
            int completed = JsonToMessagePack.Completed;
            Assert.Equal(3, Converter.Convert(input, direct).Values);
            Assert.Equal(completed + 1, JsonToMessagePack.Completed);
            Assert.Equal(3, Converter.Convert(input, general, new ConvertOptions { Direct = false }).Values);
            Assert.True(File.ReadAllBytes(direct).AsSpan().SequenceEqual(File.ReadAllBytes(general)));
            Assert.True(new FileInfo(direct).Length > 6_000_000, new FileInfo(direct).Length.ToString());
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Other_settings_take_the_general_path()
    {
        int completed = JsonToMessagePack.Completed, gaveUp = JsonToMessagePack.GaveUp;
        var output = new MemoryStream();
        Converter.Convert(new MemoryStream("[1, 2]"u8.ToArray()), Json, output, MsgPack, new ConvertOptions { Settings = new Dictionary<string, string> { ["future"] = "x" } });
        Assert.Equal(completed, JsonToMessagePack.Completed);
        Assert.Equal(gaveUp, JsonToMessagePack.GaveUp);
        Assert.Equal(Run("[1, 2]"u8.ToArray(), direct: true).Bytes, output.ToArray());
    }

    [Fact]
    public void Unseekable_input_takes_the_general_path()
    {
        int completed = JsonToMessagePack.Completed, gaveUp = JsonToMessagePack.GaveUp;
        var output = new MemoryStream();
        var input = new UnseekableStream(Encoding.UTF8.GetBytes("[1, 2]"));
        Converter.Convert(input, Json, output, MsgPack);
        Assert.Equal(completed, JsonToMessagePack.Completed);
        Assert.Equal(gaveUp, JsonToMessagePack.GaveUp);
        Assert.Equal(Run(Encoding.UTF8.GetBytes("[1, 2]"), direct: true).Bytes, output.ToArray());
    }

    sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
