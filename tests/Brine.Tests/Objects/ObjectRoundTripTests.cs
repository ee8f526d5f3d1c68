using System.Numerics;
using Brine.Model;
using Brine.Objects;
using Xunit;

namespace Brine.Tests.Objects;

public class ObjectRoundTripTests
{
    /// <summary>Objects → tokens → Node → tokens → objects: every value crosses the token model twice.</summary>
    internal static T? ViaNode<T>(T value, ObjectOptions? options = null)
    {
        var node = ObjectWriter.ToNode(value, options);
        return ObjectReader.FromNode<T>(node, options);
    }

    static Everything Sample() => new()
    {
        Flag = true, B = 200, SB = -5, S = -3000, US = 60000, I = -7, UI = 4_000_000_000, L = long.MinValue, UL = ulong.MaxValue,
        F = 1.5f, D = Math.PI, M = 12345.6789m, Big = BigInteger.Pow(3, 100), C = 'é', Text = "héllo\n\"x\"", Data = [0, 1, 255],
        When = new DateTime(2024, 5, 1, 12, 30, 15, 123, DateTimeKind.Utc).AddTicks(4567),
        WhenNaive = new DateTime(1999, 12, 31, 23, 59, 59, DateTimeKind.Unspecified),
        At = new DateTimeOffset(2024, 5, 1, 14, 30, 15, TimeSpan.FromHours(2)),
        Day = new DateOnly(2024, 2, 29), Clock = new TimeOnly(23, 59, 58, 250), Span = TimeSpan.FromMinutes(90.5),
        Id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), Color = Color.Blue, MaybeInt = 42, NoInt = null,
        Vector = new Vec { X = 1, Y = -2, Label = "v" }, MaybeVector = new Vec { X = 3 },
        Numbers = [1, 2, 3], Names = ["a", "b"], Unique = [5, 6, 7],
        Weights = new() { ["x"] = 0.25, ["y"] = -1e300 }, ByNumber = new() { [1] = "one", [-2] = "minus two" },
        Pair = (9, "nine"), Triple = Tuple.Create("t", 2.5, false),
        Points = [new Point(1, 2), new Point(3, 4)],
        Anything = new List<object?> { 1L, "two", null, 3.5 },
        Tree = Node.Map().Add("k", Node.List(Node.Int(1), Node.Bool(false))),
        Field = 99,
    };

    [Fact]
    public void Every_supported_type_round_trips()
    {
        var a = Sample();
        var b = ViaNode(a)!;
        Assert.Equal(a.Flag, b.Flag); Assert.Equal(a.B, b.B); Assert.Equal(a.SB, b.SB); Assert.Equal(a.S, b.S); Assert.Equal(a.US, b.US);
        Assert.Equal(a.I, b.I); Assert.Equal(a.UI, b.UI); Assert.Equal(a.L, b.L); Assert.Equal(a.UL, b.UL);
        Assert.Equal(a.F, b.F); Assert.Equal(a.D, b.D); Assert.Equal(a.M, b.M); Assert.Equal(a.Big, b.Big); Assert.Equal(a.C, b.C);
        Assert.Equal(a.Text, b.Text); Assert.Equal(a.Data, b.Data);
        Assert.Equal(a.When, b.When); Assert.Equal(DateTimeKind.Utc, b.When.Kind);
        Assert.Equal(a.WhenNaive, b.WhenNaive); Assert.Equal(DateTimeKind.Unspecified, b.WhenNaive.Kind);
        Assert.Equal(a.At, b.At); Assert.Equal(a.At.Offset, b.At.Offset);
        Assert.Equal(a.Day, b.Day); Assert.Equal(a.Clock, b.Clock); Assert.Equal(a.Span, b.Span); Assert.Equal(a.Id, b.Id);
        Assert.Equal(a.Color, b.Color); Assert.Equal(42, b.MaybeInt); Assert.Null(b.NoInt);
        Assert.Equal(a.Vector.X, b.Vector.X); Assert.Equal(a.Vector.Y, b.Vector.Y); Assert.Equal("v", b.Vector.Label);
        Assert.Equal(3, b.MaybeVector!.Value.X);
        Assert.Equal(a.Numbers, b.Numbers); Assert.Equal(a.Names, b.Names); Assert.Equal(a.Unique, b.Unique);
        Assert.Equal(a.Weights, b.Weights); Assert.Equal(a.ByNumber, b.ByNumber);
        Assert.Equal(a.Pair, b.Pair); Assert.Equal(a.Triple, b.Triple); Assert.Equal(a.Points, b.Points);
        Assert.Equal((List<object?>)a.Anything!, (List<object?>)b.Anything!);
        Assert.Null(NodeComparer.Difference(a.Tree!, b.Tree!));
        Assert.Equal(99, b.Field);
    }

    [Fact]
    public void Tokens_use_the_model_vocabulary()
    {
        var n = ObjectWriter.ToNode(Sample());
        Assert.Equal(typeof(Everything).FullName, n.Tag);
        Assert.Equal("set", n["Unique"]!.Tag);
        Assert.Equal("tuple", n["Pair"]!.Tag);
        Assert.Equal("tuple", n["Triple"]!.Tag);
        Assert.Equal(TokenKind.String, n["Color"]!.Kind);
        Assert.Equal("Blue", n["Color"]!.AsString);
        Assert.Equal(TokenKind.Timestamp, n["When"]!.Kind);
        Assert.Equal(TokenKind.Decimal, n["M"]!.Kind);
        Assert.Equal(TokenKind.Bytes, n["Data"]!.Kind);
        Assert.Equal(TokenKind.Uuid, n["Id"]!.Kind);
        Assert.Equal(TokenKind.Date, n["Day"]!.Kind);
        Assert.Equal(TokenKind.Null, n["NoInt"]!.Kind);
        Assert.Equal(typeof(Point).FullName, n["Points"]![0].Tag);
    }

    [Fact]
    public void Shared_references_and_cycles_are_kept()
    {
        var ann = new Person { Name = "Ann", Age = 30 };
        var bob = new Person { Name = "Bob", Age = 31, Best = ann };
        ann.Best = bob;                  // cycle
        ann.Friends.Add(bob); ann.Friends.Add(ann); // self-cycle through a list
        bob.Friends.Add(ann);
        var people = new List<Person> { ann, bob, ann };

        var node = ObjectWriter.ToNode(people);
        var copy = ObjectReader.FromNode<List<Person>>(node)!;
        Assert.Equal(3, copy.Count);
        Assert.Same(copy[0], copy[2]);
        var a = copy[0]; var b = copy[1];
        Assert.Equal("Ann", a.Name); Assert.Equal("Bob", b.Name);
        Assert.Same(b, a.Best); Assert.Same(a, b.Best);
        Assert.Same(b, a.Friends[0]); Assert.Same(a, a.Friends[1]); Assert.Same(a, b.Friends[0]);
    }

    [Fact]
    public void Anchors_appear_only_on_shared_objects()
    {
        var shared = new Point(1, 2);
        var tokens = new ObjectTokenReader(new List<object> { shared, new Point(3, 4), shared });
        var anchors = new List<string>(); int aliases = 0;
        while (tokens.Read()) { if (tokens.Anchor is { } a) anchors.Add(a); if (tokens.Kind == TokenKind.Alias) aliases++; }
        Assert.Equal(["id1"], anchors);
        Assert.Equal(1, aliases);
    }

    [Fact]
    public void Records_with_constructor_parameters_round_trip()
    {
        var line = new Line(new Point(0, 0), new Point(3, 4), "diag");
        Assert.Equal(line, ViaNode(line));
        var shape = new Shape("tri", [new Point(0, 0), new Point(1, 0), new Point(0, 1)]) { Fill = Color.Red };
        var copy = ViaNode(shape)!;
        Assert.Equal("tri", copy.Name); Assert.Equal(shape.Points, copy.Points); Assert.Equal(Color.Red, copy.Fill);
        // A shared record is still one object after reading.
        var p = new Point(5, 5);
        var pair = ViaNode(new List<Point> { p, p })!;
        Assert.Same(pair[0], pair[1]);
    }

    [Fact]
    public void A_cycle_through_a_constructor_built_record_is_an_error()
    {
        var a = new Ring("a"); var b = new Ring("b") { Next = a }; a.Next = b;
        // Ring has a constructor parameter, so it is built when its data ends; a cycle back to it is refused clearly.
        var e = Assert.Throws<BrineFormatException>(() => ViaNode(a));
        Assert.Contains("constructor", e.Message);
        Assert.Contains("Ring", e.Message);
    }

    [Fact]
    public void A_million_deep_linked_list_neither_writes_nor_reads_recursively()
    {
        const int n = 1_000_000;
        LinkedNode head = new() { Value = 0 }, tail = head;
        for (int i = 1; i < n; i++) { tail.Next = new LinkedNode { Value = i }; tail = tail.Next; }
        // Objects → tokens → objects directly: the reader of one side is the token source of the other.
        var copy = new ObjectReader().Read<LinkedNode>(new ObjectTokenReader(head))!;
        int count = 0;
        for (var x = copy; x is not null; x = x.Next) { Assert.Equal(count, x.Value); count++; }
        Assert.Equal(n, count);
    }

    [Fact]
    public void A_deep_cyclic_list_survives_a_Node_graph()
    {
        const int n = 100_000;
        LinkedNode head = new() { Value = 0 }, tail = head;
        for (int i = 1; i < n; i++) { tail.Next = new LinkedNode { Value = i }; tail = tail.Next; }
        tail.Next = head;
        var node = ObjectWriter.ToNode(head);
        var cyc = ObjectReader.FromNode<LinkedNode>(node)!;
        var y = cyc;
        for (int i = 0; i < n; i++) { Assert.Equal(i, y!.Value); y = y.Next; }
        Assert.Same(cyc, y);
    }

    [Fact]
    public void Polymorphic_members_use_allowed_tags()
    {
        var zoo = new Zoo { Animals = [new Dog { Name = "Rex" }, new Cat { Name = "Tom", Lives = 7 }], Mascot = new Dog { Name = "M", Good = false } };
        var options = new ObjectOptions { Types = TypePolicy.Default.Allow<Dog>().Allow<Cat>() };
        var copy = ViaNode(zoo, options)!;
        Assert.IsType<Dog>(copy.Animals[0]); Assert.Equal("Rex", copy.Animals[0].Name);
        Assert.Equal(7, Assert.IsType<Cat>(copy.Animals[1]).Lives);
        Assert.False(Assert.IsType<Dog>(copy.Mascot).Good);
        // Without the registrations the tags are refused.
        var e = Assert.Throws<BrineLimitException>(() => ViaNode(zoo));
        Assert.Contains(typeof(Dog).FullName!, e.Message);
    }

    [Fact]
    public void Untyped_values_read_as_plain_collections()
    {
        var node = Node.Map()
            .Add("list", Node.List(Node.Int(1), Node.String("x")))
            .Add("set", new Node[] { Node.Int(1), Node.Int(2) }.Aggregate(Node.List("set"), (l, i) => l.Add(i)))
            .Add("tuple", Node.List("tuple").Add(Node.Int(1)).Add(Node.Bool(true)))
            .Add("dec", Node.Decimal(DecimalNumber.Parse("1.25")))
            .Add("ts", Node.Timestamp(new Timestamp(0, 0, 0)));
        var v = ObjectReader.FromNode<object>(node);
        var d = Assert.IsType<Dictionary<object, object?>>(v);
        Assert.Equal(new List<object?> { 1L, "x" }, d["list"]);
        Assert.True(Assert.IsType<HashSet<object?>>(d["set"]).SetEquals([1L, 2L]));
        Assert.Equal(new object?[] { 1L, true }, d["tuple"]);
        Assert.Equal(1.25m, d["dec"]);
        Assert.Equal(DateTimeOffset.UnixEpoch, d["ts"]);
    }

    [Fact]
    public void Bad_values_name_the_place()
    {
        var node = Node.Map(typeof(Person).FullName).Add("Name", Node.String("x")).Add("Age", Node.String("old"));
        var e = Assert.Throws<BrineFormatException>(() => ObjectReader.FromNode<Person>(node));
        Assert.Contains("$.Age", e.Message);
        Assert.Contains("Int32", e.Message);
    }
}
