using Brine.Formats;
using Brine.Formats.Yaml;
using Brine.Model;
using Xunit;

namespace Brine.Tests.Model;

/// <summary>A writer that records the tokens it is given, to test the pump and the tree without a format.</summary>
sealed class RecordingWriter : TokenWriter
{
    public readonly List<string> Tokens = new();
    public override string FormatName => "record";
    string Prefix() { var p = (PendingAnchor is null ? "" : "&" + PendingAnchor + " ") + (PendingTag is null ? "" : "!" + PendingTag + " "); PendingAnchor = null; PendingTag = null; return p; }
    public override void WriteNull() => Tokens.Add(Prefix() + "null");
    public override void WriteBool(bool value) => Tokens.Add(Prefix() + value);
    public override void WriteInt(long value) => Tokens.Add(Prefix() + value);
    public override void WriteBigInt(System.Numerics.BigInteger value) => Tokens.Add(Prefix() + value);
    public override void WriteFloat(double value) => Tokens.Add(Prefix() + value.ToString("R"));
    public override void WriteDecimal(DecimalNumber value) => Tokens.Add(Prefix() + value + "m");
    public override void WriteString(string value) => Tokens.Add(Prefix() + "'" + value + "'");
    public override void WriteBytes(ReadOnlySpan<byte> value) => Tokens.Add(Prefix() + "b" + value.Length);
    public override void WriteTimestamp(Timestamp value) => Tokens.Add(Prefix() + value);
    public override void WriteDate(DateOnly value) => Tokens.Add(Prefix() + value.ToString("O"));
    public override void WriteTime(TimeOnly value) => Tokens.Add(Prefix() + value.ToString("O"));
    public override void WriteUuid(Guid value) => Tokens.Add(Prefix() + value);
    public override void StartList(int count = -1) => Tokens.Add(Prefix() + "[");
    public override void EndList() => Tokens.Add("]");
    public override void StartMap(int count = -1) => Tokens.Add(Prefix() + "{");
    public override void EndMap() => Tokens.Add("}");
    public override void WriteAlias(string anchor) => Tokens.Add("*" + anchor);
    public override void Finish() { }
    public override string ToString() => string.Join(" ", Tokens);
}

public class ModelTests
{
    static Node Program()
    {
        var day = Node.Map().Add("name", Node.String("push")).Add("sets", Node.Int(3));
        var root = Node.Map();
        root.Add("days", Node.List(day));
        root.Add("schedule", Node.List(day, day));
        return root;
    }

    [Fact]
    public void Shared_nodes_get_one_anchor_and_aliases()
    {
        var w = new RecordingWriter();
        TokenPump.WriteNode(Program(), w);
        Assert.Equal("{ 'days' [ &id1 { 'name' 'push' 'sets' 3 } ] 'schedule' [ *id1 *id1 ] }", w.ToString());
    }

    [Fact]
    public void Expanding_writes_copies()
    {
        var w = new RecordingWriter();
        using var r = new NodeReader(Program());
        TokenPump.Copy(r, w, new PumpOptions { PassReferences = false });
        Assert.Equal("{ 'days' [ { 'name' 'push' 'sets' 3 } ] 'schedule' [ { 'name' 'push' 'sets' 3 } { 'name' 'push' 'sets' 3 } ] }", w.ToString());
    }

    [Fact]
    public void Builder_restores_sharing_and_cycles()
    {
        var list = Node.List();
        list.Add(list);
        list.Add(Node.Int(1));
        using var r = new NodeReader(list);
        var back = NodeBuilder.ReadValue(r)!;
        Assert.Same(back, back[0]);
        Assert.Null(NodeComparer.Difference(list, back));
        var copy = NodeBuilder.ReadValue(new NodeReader(Program()))!;
        Assert.Same(copy["days"]![0], copy["schedule"]![1]);
    }

    [Fact]
    public void Expanding_scalar_aliases_keeps_tags_follows_redefined_anchors_and_counts_toward_the_limit()
    {
        // Scalar aliases are expanded without a reader per alias, through a small cache of recent targets: the cache
        // must follow an anchor defined again (YAML allows it) and keep the tag, and each copy counts toward the limit.
        var yaml = "[&a 1, *a, !t &b x, *b, *a, &a 2, *a, *b, &c [*a, *b], *c]";
        using (var r = new YamlFormat().CreateReader(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(yaml)), ReadOptions.Default))
        {
            var w = new RecordingWriter();
            TokenPump.Copy(r, w, new PumpOptions { PassReferences = false });
            Assert.Equal("[ 1 1 !!t 'x' !!t 'x' 1 2 2 !!t 'x' [ 2 !!t 'x' ] [ 2 !!t 'x' ] ]", w.ToString());
        }
        // A tree reader names an anchor with one string, so its aliases hit the cache.
        var shared = Node.String("x");
        shared.Tag = "t";
        var tree = Node.List(shared, shared, Node.List(shared, Node.Int(5)), shared);
        var tw = new RecordingWriter();
        using (var r = new NodeReader(tree)) TokenPump.Copy(r, tw, new PumpOptions { PassReferences = false });
        Assert.Equal("[ !t 'x' !t 'x' [ !t 'x' 5 ] !t 'x' ]", tw.ToString());
        var wide = Node.List(Enumerable.Repeat(shared, 200).ToArray());
        using (var r = new NodeReader(wide))
            Assert.Throws<BrineLimitException>(() => TokenPump.Copy(r, new RecordingWriter(), new PumpOptions { PassReferences = false, MaxExpandedNodes = 100 }));

        var many = "[&a lol" + string.Concat(Enumerable.Repeat(", *a", 200)) + "]";
        using (var r = new YamlFormat().CreateReader(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(many)), ReadOptions.Default))
            Assert.Throws<BrineLimitException>(() => TokenPump.Copy(r, new RecordingWriter(), new PumpOptions { PassReferences = false, MaxExpandedNodes = 100 }));
    }

    [Fact]
    public void Expanding_a_cycle_is_an_error_naming_the_path()
    {
        var map = Node.Map();
        map.Add("self", Node.List(map));
        using var r = new NodeReader(map);
        var e = Assert.ThrowsAny<BrineFormatException>(() => TokenPump.Copy(r, new RecordingWriter(), new PumpOptions { PassReferences = false }));
        Assert.Contains("cycle", e.Message);
        Assert.Contains("$.self[0]", e.Message);
    }

    [Fact]
    public void Alias_bomb_expansion_is_limited()
    {
        // Ten levels of ten aliases each: 10^10 nodes if expanded.
        var level = Node.List(Node.String("lol"));
        for (int i = 0; i < 10; i++) { var next = Node.List(); for (int j = 0; j < 10; j++) next.Add(level); level = next; }
        using var r = new NodeReader(level);
        Assert.Throws<BrineLimitException>(() => TokenPump.Copy(r, new RecordingWriter(), new PumpOptions { PassReferences = false, MaxExpandedNodes = 100_000 }));
    }

    [Fact]
    public void A_million_levels_deep_needs_no_recursion()
    {
        var root = Node.List(); var cur = root;
        for (int i = 0; i < 1_000_000; i++) { var n = Node.List(); cur.Add(n); cur = n; }
        var back = NodeBuilder.ReadValue(new NodeReader(root))!;
        Assert.Null(NodeComparer.Difference(root, back));
    }

    [Theory]
    [InlineData("12.50", "12.50")]
    [InlineData("-0.001", "-0.001")]
    [InlineData("1e3", "1000")]
    [InlineData("3.141592653589793238462643383279502884197", "3.141592653589793238462643383279502884197")]
    [InlineData("2.5E-3", "0.0025")]
    public void Decimals_keep_every_digit(string text, string expected)
    {
        Assert.Equal(expected, DecimalNumber.Parse(text).ToString());
    }

    [Fact]
    public void Decimal_converts_to_System_Decimal_when_it_fits()
    {
        Assert.True(DecimalNumber.Parse("-12.345").TryToDecimal(out var d));
        Assert.Equal(-12.345m, d);
        Assert.Equal(DecimalNumber.Parse("79.99"), DecimalNumber.FromDecimal(79.99m));
        Assert.False(DecimalNumber.Parse("3.141592653589793238462643383279502884197").TryToDecimal(out _));
    }

    [Theory]
    [InlineData("2024-05-01T12:00:00Z", 1714564800L, 0, "2024-05-01T12:00:00Z")]
    [InlineData("2024-05-01T14:00:00.123456789+02:00", 1714564800L, 123456789, "2024-05-01T14:00:00.123456789+02:00")]
    [InlineData("2024-05-01 12:00:00", 1714564800L, 0, "2024-05-01T12:00:00")]
    [InlineData("1969-12-31T23:59:59.5Z", -1L, 500000000, "1969-12-31T23:59:59.5Z")]
    public void Timestamps_parse_and_print_with_nanoseconds(string text, long seconds, int nanos, string printed)
    {
        Assert.True(Timestamp.TryParse(text, out var t));
        Assert.Equal(seconds, t.UnixSeconds);
        Assert.Equal(nanos, t.Nanoseconds);
        Assert.Equal(printed, t.ToString());
    }

    [Fact]
    public void Timestamp_round_trips_through_DateTimeOffset()
    {
        var d = new DateTimeOffset(2020, 2, 29, 23, 59, 58, 123, TimeSpan.FromHours(-5)).AddTicks(4567);
        var t = Timestamp.FromDateTimeOffset(d);
        Assert.Equal(d, t.ToDateTimeOffset());
        Assert.Equal(d.ToUnixTimeMilliseconds(), t.ToUnixMilliseconds());
    }

    [Fact]
    public void Path_names_keys_and_indexes()
    {
        var p = new ModelPath();
        p.Step(TokenKind.StartMap, null);
        p.Step(TokenKind.String, "program");
        p.Step(TokenKind.StartMap, null);
        p.Step(TokenKind.String, "days");
        p.Step(TokenKind.StartList, null);
        p.Step(TokenKind.Int, 1L);
        p.Step(TokenKind.Int, 2L);
        Assert.Equal("$.program.days[2]", p.ToString());
    }
}
