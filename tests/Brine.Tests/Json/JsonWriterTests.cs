using System.Numerics;
using Brine.Formats;
using Brine.Model;
using Xunit;

namespace Brine.Tests.Json;

public class JsonWriterTests
{
    [Fact]
    public void Indents_two_spaces_by_default_and_ends_with_a_newline()
    {
        var n = Node.Map().Add("a", Node.List(Node.Int(1), Node.String("x"))).Add("b", Node.Map());
        Assert.Equal("{\n  \"a\": [\n    1,\n    \"x\"\n  ],\n  \"b\": {}\n}\n", JsonText.Write(n));
        Assert.Equal("{\"a\":[1,\"x\"],\"b\":{}}\n", JsonText.Write(n, JsonText.Compact));
    }

    [Fact]
    public void Several_values_are_written_one_a_line_like_jq_and_json_lines_is_always_compact()
    {
        var values = new[] { Node.Map().Add("a", Node.Int(1)), Node.List(Node.Int(2)) };
        Assert.Equal("{\n  \"a\": 1\n}\n[\n  2\n]\n", JsonText.Write(values));
        Assert.Equal("{\"a\":1}\n[2]\n", JsonText.Write(values, new WriteOptions { Indent = true }, lines: true));
        Assert.Equal(2, JsonText.Read(JsonText.Write(values)).Count);
    }

    [Fact]
    public void Floats_read_back_as_floats_and_keep_their_value()
    {
        var n = Node.List(Node.Float(1.0), Node.Float(-0.0), Node.Float(0.1), Node.Float(1e300), Node.Float(double.Epsilon), Node.Float(123.456));
        var text = JsonText.Write(n, JsonText.Compact);
        Assert.Equal("[1.0,-0.0,0.1,1E+300,5E-324,123.456]\n", text);
        var back = JsonText.ReadOne(text);
        Assert.Null(NodeComparer.Difference(n, back));
        Assert.True(double.IsNegative((double)back[1].Value!));
    }

    [Fact]
    public void NaN_is_refused_with_its_path_unless_nan_is_string()
    {
        var n = Node.Map().Add("data", Node.List(Node.Float(1), Node.Float(double.NaN)));
        var e = Assert.Throws<BrineFormatException>(() => JsonText.Write(n));
        Assert.Contains("NaN", e.Message);
        Assert.Equal("$.data[1]", e.ModelPath);
        var options = new WriteOptions { Indent = false, Settings = JsonText.Settings(("nan", "string")) };
        Assert.Equal("{\"data\":[1.0,\"NaN\",\"Infinity\",\"-Infinity\"]}\n",
            JsonText.Write(Node.Map().Add("data", Node.List(Node.Float(1), Node.Float(double.NaN), Node.Float(double.PositiveInfinity), Node.Float(double.NegativeInfinity))), options));
    }

    [Fact]
    public void Big_integers_and_decimals_are_raw_literals_with_every_digit()
    {
        var big = BigInteger.Parse("-123456789012345678901234567890");
        var n = Node.List(Node.Int(big), Node.Decimal(DecimalNumber.Parse("0.10000000000000000000000001")), Node.Decimal(new DecimalNumber(12, -3)));
        Assert.Equal("[-123456789012345678901234567890,0.10000000000000000000000001,12E+3]\n", JsonText.Write(n, JsonText.Compact));
    }

    [Fact]
    public void Other_kinds_become_strings_and_bytes_base64()
    {
        var ts = new Timestamp(1_700_000_000, 500_000_000, 120);
        var n = Node.List(Node.Bytes(new byte[] { 1, 2, 3 }), Node.Timestamp(ts), Node.Date(new DateOnly(2024, 2, 29)),
            Node.Time(new TimeOnly(13, 5, 7)), Node.Time(new TimeOnly(13, 5, 7, 250)), Node.Uuid(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")));
        Assert.Equal($"[\"AQID\",\"{ts}\",\"2024-02-29\",\"13:05:07\",\"13:05:07.25\",\"0f8fad5b-d9cb-469f-a165-70867728950e\"]\n", JsonText.Write(n, JsonText.Compact));
        Assert.Equal("[{\"py/b64\":\"AQID\"}]\n", JsonText.Write(Node.List(Node.Bytes(new byte[] { 1, 2, 3 })), JsonText.KeepRefs));
    }

    [Fact]
    public void Map_keys_that_are_not_strings_are_written_as_text()
    {
        var n = Node.Map().Add(Node.Int(1), Node.String("one")).Add(Node.Bool(true), Node.Null()).Add(Node.Float(1.5), Node.Int(2)).Add(Node.Null(), Node.Int(3));
        Assert.Equal("{\"1\":\"one\",\"true\":null,\"1.5\":2,\"null\":3}\n", JsonText.Write(n, JsonText.Compact));
    }

    [Fact]
    public void Tags_use_jsonpickle_and_scalar_tags_are_dropped()
    {
        var tuple = Node.List("tuple");
        tuple.Add(Node.Int(1));
        var set = Node.List("set");
        set.Add(Node.String("a"));
        var tagged = Node.String("x");
        tagged.Tag = "!custom";
        var n = Node.List(tuple, set, Node.Map("models.User").Add("name", Node.String("ann")), tagged, Node.List("!seq"));
        var text = JsonText.Write(n, JsonText.Compact);
        Assert.Equal("[{\"py/tuple\":[1]},{\"py/set\":[\"a\"]},{\"py/object\":\"models.User\",\"name\":\"ann\"},\"x\",[]]\n", text);
        var back = JsonText.ReadOne(text);
        Assert.Equal("tuple", back[0].Tag);
        Assert.Equal("set", back[1].Tag);
        Assert.Equal("models.User", back[2].Tag);
        var plain = new WriteOptions { Indent = false, Settings = JsonText.Settings(("conventions", "none")) };
        Assert.Equal("[[1],[\"a\"],{\"name\":\"ann\"},\"x\",[]]\n", JsonText.Write(n, plain));
    }

    [Fact]
    public void Shared_scalars_and_tuples_are_written_again_where_jsonpickle_has_no_reference()
    {
        var s = Node.String("shared text");
        var inner = Node.List(Node.Int(1));
        var t = Node.List("tuple");
        t.Add(inner).Add(inner);
        var n = Node.List(s, s, t, t);
        var text = JsonText.Write(n, JsonText.KeepRefs);
        Assert.Equal("[\"shared text\",\"shared text\",{\"py/tuple\":[[1],{\"py/id\":1}]},{\"py/tuple\":[{\"py/id\":1},{\"py/id\":1}]}]\n", text);
        var back = JsonText.ReadOne(text);
        Assert.Same(back[2][0], back[3][1]);
    }

    [Fact]
    public void Expanded_references_write_plain_json()
    {
        var shared = Node.List(Node.Int(1));
        var n = Node.List(shared, shared);
        Assert.Equal("[[1],[1]]\n", JsonText.Write(n, JsonText.Compact));
    }

    [Fact]
    public void A_cycle_without_keep_references_is_an_error_naming_the_path()
    {
        using var dir = new Support.TempDir();
        var input = dir.File("cycle.json");
        File.WriteAllText(input, """{"a": {"self": {"py/id": 1}}}""");
        var e = Assert.Throws<BrineFormatException>(() => Conversion.Converter.Convert(input, dir.File("out.json")));
        Assert.Contains("cycle", e.Message);
        Assert.False(File.Exists(dir.File("out.json")));
        Conversion.Converter.Convert(input, dir.File("kept.json"), new Conversion.ConvertOptions { Refs = RefsMode.Keep, Indent = false });
        Assert.Equal("{\"a\":{\"self\":{\"py/id\":1}}}\n", File.ReadAllText(dir.File("kept.json")));
    }

    [Fact]
    public void Formats_are_registered_and_detected()
    {
        var reg = Formats.FormatRegistry.Default;
        Assert.Equal("json", reg.FindByName("json")!.Name);
        Assert.Equal("jsonl", reg.FindByName("ndjson")!.Name);
        Assert.Equal("jsonl", reg.FindByPath("x.ndjson")!.Name);
        Assert.Equal("jsonl", reg.FindByMediaType("application/x-ndjson; charset=utf-8")!.Name);
        Assert.Equal("json", reg.FindByMediaType("application/json")!.Name);
        Assert.Equal("jsonl", reg.Detect("{\"a\":1}\n{\"a\":2}\n"u8)!.Name);
        Assert.Equal("json", reg.Detect("{\n  \"a\": 1\n}\n"u8)!.Name);
        Assert.Equal("json", reg.Detect("\uFEFF[1]"u8)!.Name);
    }
}
