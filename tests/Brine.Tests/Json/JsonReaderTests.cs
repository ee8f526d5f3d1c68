using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Brine.Formats;
using Brine.Model;
using Xunit;

namespace Brine.Tests.Json;

[Collection(Brine.Tests.Support.MemoryMeasuringCollection.Name)]
public class JsonReaderTests
{
    [Fact]
    public void Reads_scalars_lists_and_maps()
    {
        var n = JsonText.ReadOne("""{"a": [1, -2, true, false, null, "x\u00e9\n"], "b": {}, "c": []}""");
        Assert.Equal(3, n.Entries!.Count);
        var a = n["a"]!;
        Assert.Equal(1L, a[0].Value);
        Assert.Equal(-2L, a[1].Value);
        Assert.Equal(true, a[2].Value);
        Assert.Equal(false, a[3].Value);
        Assert.Equal(TokenKind.Null, a[4].Kind);
        Assert.Equal("xé\n", a[5].Value);
        Assert.Empty(n["b"]!.Entries!);
        Assert.Empty(n["c"]!.Items!);
    }

    [Theory]
    [InlineData("0.1", 0.1)]
    [InlineData("1.5", 1.5)]
    [InlineData("1e10", 1e10)]
    [InlineData("-0.0", -0.0)]
    [InlineData("2.5E-3", 0.0025)]
    [InlineData("1.7976931348623157e308", double.MaxValue)]
    [InlineData("5e-324", double.Epsilon)]
    [InlineData("1.50000000000000000000000", 1.5)]
    public void Fractions_a_double_keeps_are_floats(string literal, double expected)
    {
        var n = JsonText.ReadOne(literal);
        Assert.Equal(TokenKind.Float, n.Kind);
        Assert.Equal(expected, (double)n.Value!);
        if (expected == 0) Assert.Equal(double.IsNegative(expected), double.IsNegative((double)n.Value!));
    }

    [Theory]
    [InlineData("0.1000000000000000000000000001")]
    [InlineData("3.141592653589793238462643383279502884197")]
    [InlineData("1e400")]
    [InlineData("-1e-400")]
    [InlineData("123456789012345678901234567890.5")]
    public void Fractions_a_double_cannot_keep_are_exact_decimals(string literal)
    {
        var n = JsonText.ReadOne(literal);
        Assert.Equal(TokenKind.Decimal, n.Kind);
        Assert.True(((DecimalNumber)n.Value!).ValueEquals(DecimalNumber.Parse(literal)));
        // and written back with every digit
        var back = JsonText.ReadOne(JsonText.Write(n, JsonText.Compact));
        Assert.True(((DecimalNumber)back.Value!).ValueEquals(DecimalNumber.Parse(literal)));
    }

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("-9223372036854775808")]
    [InlineData("9223372036854775808")]
    [InlineData("-123456789012345678901234567890123456789012345678901234567890")]
    public void Integers_keep_every_digit(string literal)
    {
        var n = JsonText.ReadOne(literal);
        Assert.Equal(TokenKind.Int, n.Kind);
        var value = n.Value is long l ? new BigInteger(l) : (BigInteger)n.Value!;
        Assert.Equal(BigInteger.Parse(literal), value);
        Assert.Equal(literal, JsonText.Write(n, JsonText.Compact).Trim());
    }

    [Fact]
    public void Json_lines_reads_one_value_a_line_and_blank_lines()
    {
        var values = JsonText.Read("{\"a\":1}\n\n[2]\r\n  \"three\"\n4\n", lines: true);
        Assert.Equal(4, values.Count);
        Assert.Equal("three", values[2].Value);
        Assert.Empty(JsonText.Read("", lines: true));
        Assert.Empty(JsonText.Read("\n \n", lines: true));
    }

    [Fact]
    public void Json_lines_refuses_two_values_on_one_line()
    {
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read("{\"a\":1}\n{\"b\":2} {\"c\":3}\n", lines: true));
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Json_reads_several_values_one_a_line_as_jq_writes_them()
    {
        var values = JsonText.Read("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n");
        Assert.Equal(2, values.Count);
        Assert.Throws<BrineFormatException>(() => JsonText.Read("[1] [2]"));
        Assert.Throws<BrineFormatException>(() => JsonText.Read("  "));
    }

    [Fact]
    public void Byte_order_mark_is_skipped()
    {
        var n = Assert.Single(JsonText.Read(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'[', (byte)'1', (byte)']' }));
        Assert.Single(n.Items!);
    }

    [Theory]
    [InlineData("[1,\n 2,\n]", "line 3, column 1")]
    [InlineData("{\"a\": 1,}", "line 1, column 9")]
    [InlineData("[1, 2 // note\n]", "line 1, column 7")]
    [InlineData("{\"a\": [1, 2", "line 1")]
    [InlineData("\n\n  [tru]", "line 3")]
    public void Bad_input_names_line_and_column(string text, string where)
    {
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read(text));
        Assert.Equal("json", e.Format);
        Assert.Contains(where, e.Message);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_its_position()
    {
        var bytes = Encoding.UTF8.GetBytes("[\"ok\",\n \"bad ").Concat(new byte[] { 0xC3, 0x28 }).Concat("\"]"u8.ToArray()).ToArray();
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read(bytes));
        Assert.Contains("line 2", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Truncated_file_is_refused()
    {
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read("{\"users\": [{\"id\": 1}, {\"id\""));
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void Errors_far_into_a_stream_keep_the_right_line()
    {
        // More than the scanner's first buffer, so the error comes after refills.
        var sb = new StringBuilder("[\n");
        for (int i = 0; i < 20_000; i++) sb.Append("  {\"id\": ").Append(i).Append(", \"name\": \"user\"},\n");
        sb.Append("  {\"id\": oops}\n]");
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read(sb.ToString()));
        Assert.Contains("line 20002", e.Message);
        // Through the pump, the error also names the model path.
        using var r = JsonText.Json.CreateReader(new MemoryStream(Encoding.UTF8.GetBytes(sb.ToString())), ReadOptions.Default);
        using var w = JsonText.Json.CreateWriter(Stream.Null, WriteOptions.Default);
        var e2 = Assert.Throws<BrineFormatException>(() => TokenPump.Copy(r, w));
        Assert.Equal("$[20000].id", e2.ModelPath);
    }

    [Fact]
    public void Long_strings_that_span_buffer_refills_are_read_whole()
    {
        var big = new string('x', 300_000) + "é" + new string('y', 100_000);
        var n = JsonText.ReadOne("[\"" + big + "\", \"" + big.Replace("é", "\\u00e9") + "\"]");
        Assert.Equal(big, n[0].Value);
        Assert.Equal(big, n[1].Value);
    }

    [Fact]
    public void Conventions_none_reads_markers_as_plain_maps()
    {
        var options = new ReadOptions { Settings = JsonText.Settings(("conventions", "none")) };
        var n = JsonText.ReadOne("""[{"py/tuple": [1, 2]}, {"$id": "1", "a": 1}, {"$ref": "1"}]""", options);
        Assert.Equal("py/tuple", n[0].Entries![0].Key.Value);
        Assert.Null(n[0].Tag);
        Assert.Equal("$ref", n[2].Entries![0].Key.Value);
    }

    [Fact]
    public void Jsonpickle_markers_become_tags_bytes_and_references()
    {
        var n = JsonText.ReadOne("""
            {"t": {"py/tuple": [1, 2]}, "s": {"py/set": ["a"]}, "b": {"py/b64": "aGk="},
             "u": {"py/object": "models.User", "name": "ann", "tags": ["x"]},
             "again": {"py/id": 2},
             "st": {"py/object": "models.Point", "py/state": {"x": 1, "y": 2}}}
            """);
        Assert.Equal("tuple", n["t"]!.Tag);
        Assert.Equal(2, n["t"]!.Items!.Count);
        Assert.Equal("set", n["s"]!.Tag);
        Assert.Equal("hi"u8.ToArray(), (byte[])n["b"]!.Value!);
        var user = n["u"]!;
        Assert.Equal("models.User", user.Tag);
        Assert.Equal(new[] { "name", "tags" }, user.Entries!.Select(e => (string)e.Key.Value!));
        // ids: 0 the top dict; tuples, sets and bytes are not numbered; 1 the User, 2 its tags list
        Assert.Same(user["tags"], n["again"]) ;
        var point = n["st"]!;
        Assert.Equal("models.Point", point.Tag);
        Assert.Equal(new[] { "x", "y" }, point.Entries!.Select(e => (string)e.Key.Value!));
    }

    [Fact]
    public void Jsonpickle_cycle_reads_as_a_cycle()
    {
        var n = JsonText.ReadOne("""{"self": {"py/id": 0}, "list": [1, {"py/id": 1}]}""");
        Assert.Same(n, n["self"]);
        Assert.Same(n["list"], n["list"]![1]);
    }

    [Fact]
    public void Unmarked_objects_get_no_anchor()
    {
        using var r = JsonText.Json.CreateReader(new MemoryStream("""[{"a": [1]}, [2], {"py/id": 2}]"""u8.ToArray()), ReadOptions.Default);
        var anchors = new List<string>();
        while (r.Read()) if (r.Anchor is { } a) anchors.Add(a);
        Assert.Equal(new[] { "id2" }, anchors);
    }

    [Fact]
    public void References_are_found_wherever_they_fall_against_the_prescan_chunks()
    {
        // The prescan reads 1 MiB at a time: put each marker across and around that edge.
        const int Chunk = 1 << 20;
        var head = """[{"a": 1}, {"$id": "r", "b": 2}, """u8.ToArray();
        foreach (var marker in new[] { """{"py/id": 1}""", """{"$ref": "r"}""" })
            for (int at = Chunk - 72; at <= Chunk + 2; at++)
            {
                int pad = at - head.Length - 4; // the marker starts after `"…", `
                var text = new MemoryStream();
                text.Write(head);
                text.WriteByte((byte)'"'); text.Write(Enumerable.Repeat((byte)'x', pad).ToArray()); text.Write("\", "u8);
                Assert.Equal(at, text.Length);
                text.Write(Encoding.UTF8.GetBytes(marker + "]"));
                text.Position = 0;
                var pre = Brine.Formats.Json.ReferencePrescan.Scan(text);
                Assert.True(marker.Contains("py/id") ? pre.PyIds.Contains(1) : pre.Refs.Contains("r"), $"{marker} at {at} not found");
                using var r = JsonText.Json.CreateReader(text, ReadOptions.Default);
                var n = NodeBuilder.ReadAll(r).Single();
                Assert.Same(n[marker.Contains("py/id") ? 0 : 1], n[3]);
            }
    }

    [Fact]
    public void Reference_to_an_unknown_object_is_refused()
    {
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read("""[[1], {"py/id": 7}]"""));
        Assert.Contains("py/id 7", e.Message);
    }

    [Fact]
    public void Input_that_cannot_seek_keeps_id_references_and_refuses_py_id_clearly()
    {
        static List<Node> ReadUnseekable(string text)
        {
            using var r = JsonText.Json.CreateReader(new UnseekableStream(Encoding.UTF8.GetBytes(text)), ReadOptions.Default);
            return NodeBuilder.ReadAll(r);
        }
        var n = Assert.Single(ReadUnseekable("""{"$id": "1", "self": {"$ref": "1"}}"""));
        Assert.Same(n, n["self"]);
        var e = Assert.Throws<BrineFormatException>(() => ReadUnseekable("""[[1], {"py/id": 1}]"""));
        Assert.Contains("read it from a file", e.Message);
    }

    sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    sealed class Node2 { public string Name { get; set; } = ""; public Node2? Next { get; set; } public List<Node2> Children { get; set; } = new(); }

    [Fact]
    public void System_text_json_reference_preservation_reads_back_with_references()
    {
        var root = new Node2 { Name = "root" };
        var child = new Node2 { Name = "child", Next = root };
        root.Next = child;
        root.Children.Add(child);
        root.Children.Add(root);
        var json = JsonSerializer.Serialize(root, new JsonSerializerOptions { ReferenceHandler = ReferenceHandler.Preserve });
        Assert.Contains("\"$ref\"", json);
        Assert.Contains("\"$values\"", json);
        var n = JsonText.ReadOne(json);
        Assert.Equal("root", n["Name"]!.Value);
        var c = n["Next"]!;
        Assert.Same(n, c["Next"]);
        Assert.True(n["Children"]!.IsList);
        Assert.Same(c, n["Children"]![0]);
        Assert.Same(n, n["Children"]![1]);
    }

    [Fact]
    public void Million_deep_array_converts_json_to_json()
    {
        using var dir = new Support.TempDir();
        const int depth = 1_000_000;
        var input = dir.File("deep.json");
        using (var f = File.Create(input))
        {
            f.Write(Enumerable.Repeat((byte)'[', depth).ToArray());
            f.Write("42"u8);
            f.Write(Enumerable.Repeat((byte)']', depth).ToArray());
        }
        var output = dir.File("out.json");
        var result = Conversion.Converter.Convert(input, output, new Conversion.ConvertOptions { Indent = false });
        Assert.Equal(1, result.Values);
        var bytes = File.ReadAllBytes(output);
        Assert.Equal(2 * depth + 3, bytes.Length);
        Assert.True(bytes.AsSpan(0, depth).IndexOfAnyExcept((byte)'[') < 0);
        Assert.Equal("42"u8.ToArray(), bytes[depth..(depth + 2)]);
        Assert.True(bytes.AsSpan(depth + 2, depth).IndexOfAnyExcept((byte)']') < 0);
        Assert.Equal((byte)'\n', bytes[^1]);
    }

    [Fact]
    public void Depth_limit_comes_from_read_options()
    {
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Read("[[[[1]]]]", options: new ReadOptions { MaxDepth = 3 }));
        Assert.Contains("depth", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_large_top_level_array_streams_in_flat_memory()
    {
        // A ~50 MB array of a million records generated on the fly, through a stream that cannot seek.
        const int records = 1_000_000;
        var stream = new GeneratedJsonStream(records);
        using var r = JsonText.Json.CreateReader(stream, ReadOptions.Default);
        GC.Collect();
        long before = GC.GetTotalMemory(true);
        long maxSeen = 0, count = 0;
        while (r.Read())
        {
            if (r.Kind == TokenKind.EndMap && ++count % 100_000 == 0)
                maxSeen = Math.Max(maxSeen, GC.GetTotalMemory(true) - before);
        }
        Assert.Equal(records, count);
        Assert.True(stream.Length > 40_000_000, $"generated {stream.Length} bytes");
        Assert.True(maxSeen < 8_000_000, $"{maxSeen} bytes live while reading {stream.Length} bytes");
    }

    /// <summary>A read-only, non-seekable stream producing <c>[{record}, …]</c> without holding it.</summary>
    internal sealed class GeneratedJsonStream(int records) : Stream
    {
        int _next = -1;
        byte[] _pending = Array.Empty<byte>();
        int _pendingPos;
        public long Produced;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => Produced;
        public override long Position { get => Produced; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int written = 0;
            while (written < count)
            {
                if (_pendingPos == _pending.Length)
                {
                    if (_next > records) break;
                    _pending = Encoding.UTF8.GetBytes(_next switch
                    {
                        -1 => "[\n",
                        var i when i == records => "]\n",
                        var i => $"{(i > 0 ? ",\n" : "")}{{\"id\": {i}, \"name\": \"user {i}\", \"score\": {i * 0.25}, \"ok\": true}}",
                    });
                    _pendingPos = 0;
                    _next++;
                }
                int n = Math.Min(count - written, _pending.Length - _pendingPos);
                Array.Copy(_pending, _pendingPos, buffer, offset + written, n);
                _pendingPos += n; written += n;
            }
            Produced += written;
            return written;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
