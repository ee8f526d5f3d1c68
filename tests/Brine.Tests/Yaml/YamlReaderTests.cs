using Xunit;
using System.Numerics;
using Brine.Model;

namespace Brine.Tests.Yaml;

public class YamlReaderTests
{
    static Node Value(string yaml) => YamlHelpers.ReadOne(yaml);

    [Theory]
    [InlineData("~"), InlineData("null"), InlineData("Null"), InlineData("NULL"), InlineData("")]
    public void Core_schema_nulls(string text) => Assert.Equal(TokenKind.Null, Value("v: " + text)["v"]!.Kind);

    [Theory]
    [InlineData("true", true), InlineData("True", true), InlineData("TRUE", true), InlineData("false", false), InlineData("FALSE", false)]
    public void Core_schema_booleans(string text, bool expected) => Assert.Equal(expected, Value(text).Value);

    [Theory]
    [InlineData("yes"), InlineData("no"), InlineData("on"), InlineData("off"), InlineData("1_000"), InlineData("1:30"), InlineData("2001-12-14"), InlineData("0b101")]
    public void YAML_1_2_reads_1_1_forms_as_strings(string text) => Assert.Equal(text, Value(text).Value);

    [Theory]
    [InlineData("12", 12L), InlineData("-7", -7L), InlineData("+3", 3L), InlineData("0o17", 15L), InlineData("0x1F", 31L), InlineData("0777", 777L)]
    public void Core_schema_integers(string text, long expected)
    {
        var n = Value(text);
        Assert.Equal(TokenKind.Int, n.Kind);
        Assert.Equal(expected, n.Value);
    }

    [Fact]
    public void Big_integers_keep_every_digit()
    {
        var n = Value("123456789012345678901234567890");
        Assert.Equal(BigInteger.Parse("123456789012345678901234567890"), n.Value);
    }

    [Theory]
    [InlineData("1.5", 1.5), InlineData("1e3", 1000.0), InlineData("-.5", -0.5), InlineData(".inf", double.PositiveInfinity), InlineData("-.Inf", double.NegativeInfinity), InlineData("1.", 1.0)]
    public void Core_schema_floats(string text, double expected)
    {
        var n = Value(text);
        Assert.Equal(TokenKind.Float, n.Kind);
        Assert.Equal(expected, (double)n.Value!);
    }

    [Fact]
    public void Nan() => Assert.True(double.IsNaN((double)Value(".nan").Value!));

    [Fact]
    public void Floats_with_more_digits_than_a_double_are_exact_decimals()
    {
        var n = Value("3.14159265358979323846264338");
        Assert.Equal(TokenKind.Decimal, n.Kind);
        Assert.Equal("3.14159265358979323846264338", n.Value!.ToString());
    }

    [Theory]
    [InlineData("'true'"), InlineData("\"123\""), InlineData("'null'"), InlineData("\"\"")]
    public void Quoted_scalars_are_strings(string text) => Assert.Equal(TokenKind.String, Value(text).Kind);

    [Fact]
    public void YAML_1_1_document_uses_1_1_rules()
    {
        var n = Value("%YAML 1.1\n---\n[yes, No, on, OFF, 0777, 0x1F, 1_000, 1:30, 1e3, 1.5e+3, 2001-12-14, 2001-12-14t21:59:43.10-05:00]");
        Assert.Equal(true, n[0].Value); Assert.Equal(false, n[1].Value); Assert.Equal(true, n[2].Value); Assert.Equal(false, n[3].Value);
        Assert.Equal(511L, n[4].Value); Assert.Equal(31L, n[5].Value); Assert.Equal(1000L, n[6].Value); Assert.Equal(90L, n[7].Value);
        Assert.Equal("1e3", n[8].Value);
        Assert.Equal(1500.0, n[9].Value);
        Assert.Equal(new DateOnly(2001, 12, 14), n[10].Value);
        var ts = (Timestamp)n[11].Value!;
        Assert.Equal((short)-300, ts.OffsetMinutes);
        Assert.Equal(100_000_000, ts.Nanoseconds);
        Assert.Equal(new DateTimeOffset(2001, 12, 15, 2, 59, 43, TimeSpan.Zero).ToUnixTimeSeconds(), ts.UnixSeconds);
    }

    [Fact]
    public void Version_directive_applies_to_its_document_only()
    {
        var docs = YamlHelpers.Read("%YAML 1.1\n--- yes\n--- yes\n");
        Assert.Equal(true, docs[0].Value);
        Assert.Equal("yes", docs[1].Value);
    }

    [Fact]
    public void Core_tags_resolve_the_kind()
    {
        var n = Value("[!!str 12, !!int '12', !!float 1, !!bool true, !!null '', !!binary aGVsbG8=, !!timestamp 2024-05-01T10:00:00Z, !!timestamp 2024-05-01]");
        Assert.Equal("12", n[0].Value);
        Assert.Equal(12L, n[1].Value);
        Assert.Equal(1.0, n[2].Value);
        Assert.Equal(true, n[3].Value);
        Assert.Equal(TokenKind.Null, n[4].Kind);
        Assert.Equal("hello"u8.ToArray(), (byte[])n[5].Value!);
        Assert.Equal(TokenKind.Timestamp, n[6].Kind);
        Assert.Equal(new DateOnly(2024, 5, 1), n[7].Value);
    }

    [Fact]
    public void Python_tags_become_model_tags()
    {
        var n = Value("""
            user: !!python/object:models.User {name: Ann, age: 3}
            made: !!python/object/new:models.Point {args: [1, 2]}
            short: !!python/object/new:models.Point [1, 2]
            pair: !!python/tuple [1, 2]
            tags: !!set {a: null, b: }
            """);
        Assert.Equal("models.User", n["user"]!.Tag);
        Assert.Equal("Ann", n["user"]!["name"]!.Value);
        Assert.Equal("models.Point", n["made"]!.Tag);
        Assert.Equal("models.Point", n["short"]!.Tag);
        Assert.Equal(2, n["short"]!["args"]!.Items!.Count);
        Assert.Equal("tuple", n["pair"]!.Tag);
        Assert.True(n["pair"]!.IsList);
        Assert.Equal("set", n["tags"]!.Tag);
        Assert.Equal(new object?[] { "a", "b" }, n["tags"]!.Items!.Select(i => i.Value));
    }

    [Fact]
    public void Omap_is_an_ordered_map_and_pairs_a_list()
    {
        var n = Value("o: !!omap [{b: 1}, {a: 2}]\np: !!pairs [{a: 1}, {a: 2}]");
        var o = n["o"]!;
        Assert.True(o.IsMap);
        Assert.Equal("omap", o.Tag);
        Assert.Equal(new object?[] { "b", "a" }, o.Entries!.Select(e => e.Key.Value));
        Assert.Equal("pairs", n["p"]!.Tag);
        Assert.Equal(2, n["p"]!.Items!.Count);
    }

    [Fact]
    public void Other_tags_pass_through_as_text()
    {
        var n = Value("%TAG !e! tag:example.com,2000:\n---\n[!foo x, !e!widget y, !<tag:example.com,2000:z> 3, !foo {a: 1}]");
        Assert.Equal("!foo", n[0].Tag); Assert.Equal("x", n[0].Value);
        Assert.Equal("tag:example.com,2000:widget", n[1].Tag);
        Assert.Equal("tag:example.com,2000:z", n[2].Tag); Assert.Equal("3", n[2].Value);
        Assert.Equal("!foo", n[3].Tag);
    }

    [Fact]
    public void Anchors_and_aliases_are_tokens_not_copies()
    {
        var tokens = YamlHelpers.Tokens("a: &x [1, 2]\nb: *x\n");
        Assert.Contains(tokens, t => t.kind == TokenKind.StartList && t.anchor == "x");
        Assert.Contains(tokens, t => t.kind == TokenKind.Alias && t.text == "x");
        var n = Value("a: &x [1, 2]\nb: *x\n");
        Assert.Same(n["a"], n["b"]);
    }

    [Fact]
    public void Merge_keys_copy_entries_that_are_not_overridden()
    {
        var n = Value("""
            base: &base {a: 1, b: 2, shared: &s [9]}
            other: &o {c: 3}
            child:
              b: 20
              <<: [*base, *o]
              d: 4
            """);
        var child = n["child"]!;
        Assert.Equal(20L, child["b"]!.Value);
        Assert.Equal(1L, child["a"]!.Value);
        Assert.Equal(3L, child["c"]!.Value);
        Assert.Equal(4L, child["d"]!.Value);
        Assert.Null(child["<<"]);
        Assert.Same(n["base"]!["shared"], child["shared"]);
        Assert.Equal(5, child.Entries!.Count);
    }

    [Fact]
    public void Quoted_merge_key_is_an_ordinary_key() => Assert.NotNull(Value("'<<': 1")["<<"]);

    [Fact]
    public void Multi_document_stream_gives_one_value_per_document()
    {
        var docs = YamlHelpers.Read("--- 1\n--- [a]\n---\nk: v\n...\n");
        Assert.Equal(3, docs.Count);
        Assert.Equal(1L, docs[0].Value);
        Assert.Equal("v", docs[2]["k"]!.Value);
        Assert.Empty(YamlHelpers.Read(""));
    }

    [Fact]
    public void Syntax_error_names_line_and_column()
    {
        var e = Assert.ThrowsAny<BrineFormatException>(() => YamlHelpers.Read("a: 1\nb: [1, 2\nc: 3\n"));
        Assert.Equal("yaml", e.Format);
        Assert.Matches(@"line \d+, column \d+", e.Location);
    }

    [Fact]
    public void Bad_tagged_value_is_a_format_error()
    {
        var e = Assert.ThrowsAny<BrineFormatException>(() => YamlHelpers.Read("x: !!int abc"));
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void Deep_nesting_does_not_overflow_the_stack()
    {
        // Brine's side keeps explicit stacks; YamlDotNet's scanner is quadratic in flow depth (measured: 10k levels
        // 1.7 s, 20k 10 s, 100k 4.4 min), so the test stays at a depth that runs in about a second.
        const int depth = 5_000;
        var yaml = new string('[', depth) + new string(']', depth);
        var n = Value(yaml);
        int d = 0;
        while (n.IsList && n.Items!.Count == 1) { n = n[0]; d++; }
        Assert.Equal(depth - 1, d);
    }
}
