using Brine.Model;
using Brine.Objects;
using Xunit;

namespace Brine.Tests.Objects;

public class ConventionTests
{
    [Fact]
    public void DataContract_names_order_and_hidden_members()
    {
        var acc = new Account { Id = 7, Owner = "ann", Note = "n", Secret = "s" };
        var node = ObjectWriter.ToNode(acc);
        Assert.Equal(["Owner", "account_id", "_note"], node.Entries!.Select(e => e.Key.AsString!).ToArray());
        Assert.Equal(["serializing", "serialized"], acc.Log);

        var copy = ObjectReader.FromNode<Account>(node)!;
        Assert.Equal(7, copy.Id); Assert.Equal("ann", copy.Owner); Assert.Equal("n", copy.Note);
        Assert.Equal("not written", copy.Secret);
        Assert.Equal(["deserializing", "deserialized:ann"], copy.Log);
    }

    [Fact]
    public void IgnoreDataMember_NonSerialized_and_computed_members_are_not_written()
    {
        var node = ObjectWriter.ToNode(new Settings { Cache = "x", Temp = "y" });
        Assert.Equal(["Theme", "Volume", "Plugins"], node.Entries!.Select(e => e.Key.AsString!).ToArray());
    }

    [Fact]
    public void Tutorial_user_saves_without_password_and_restores_with_a_timestamp()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var user = new User { Id = 1, Name = "Ann", Email = "ann@example.com", Password = "hunter2" };
        var node = ObjectWriter.ToNode(user);
        Assert.Equal(typeof(User).FullName, node.Tag);
        Assert.Null(node["password"]);
        Assert.Null(node["Password"]);
        Assert.Equal(TokenKind.Timestamp, node["saved_at"]!.Kind);

        var copy = ObjectReader.FromNode<User>(node)!;
        Assert.Equal(1, copy.Id); Assert.Equal("Ann", copy.Name); Assert.Equal("ann@example.com", copy.Email);
        Assert.Null(copy.Password);
        Assert.True(copy.SavedAt >= before);

        // A shared stateful object stays one object.
        var pair = ObjectReader.FromNode<List<User>>(ObjectWriter.ToNode(new List<User> { user, user }))!;
        Assert.Same(pair[0], pair[1]);
    }

    [Fact]
    public void Members_missing_from_old_data_keep_their_declared_defaults()
    {
        var old = Node.Map(typeof(Settings).FullName).Add("Theme", Node.String("light"));
        var s = ObjectReader.FromNode<Settings>(old)!;
        Assert.Equal("light", s.Theme); Assert.Equal(7, s.Volume); Assert.Equal(["spell"], s.Plugins);

        var oldLine = Node.Map(typeof(Line).FullName)
            .Add("From", Node.Map().Add("X", Node.Int(1)).Add("Y", Node.Int(2)))
            .Add("To", Node.Map().Add("X", Node.Int(3)));
        var line = ObjectReader.FromNode<Line>(oldLine)!;
        Assert.Equal("line", line.Label);      // the parameter's default
        Assert.Equal(new Point(3, 0), line.To); // no default given: default(int)

        var shape = ObjectReader.FromNode<Shape>(Node.Map().Add("Name", Node.String("s")))!;
        Assert.Equal(Color.Green, shape.Fill);   // initializer of a non-positional member
    }

    [Fact]
    public void Unknown_members_are_skipped_unless_strict()
    {
        var data = Node.Map(typeof(Settings).FullName)
            .Add("Theme", Node.String("light"))
            .Add("Removed", Node.Map().Add("deep", Node.List(Node.Int(1))))
            .Add("Volume", Node.Int(3));
        var s = ObjectReader.FromNode<Settings>(data)!;
        Assert.Equal("light", s.Theme); Assert.Equal(3, s.Volume);

        var e = Assert.Throws<BrineFormatException>(() => ObjectReader.FromNode<Settings>(data, new ObjectOptions { Strict = true }));
        Assert.Contains("'Removed'", e.Message);
    }

    [Fact]
    public void Default_policy_refuses_unknown_type_tags()
    {
        var data = Node.Map("System.Diagnostics.ProcessStartInfo").Add("FileName", Node.String("/bin/sh"));
        var e = Assert.Throws<BrineLimitException>(() => ObjectReader.FromNode<object>(data));
        Assert.Contains("'System.Diagnostics.ProcessStartInfo'", e.Message);

        // Even a type the program has is refused when read as object without an allowance.
        var person = ObjectWriter.ToNode(new Person { Name = "x" });
        e = Assert.Throws<BrineLimitException>(() => ObjectReader.FromNode<object>(person));
        Assert.Contains(typeof(Person).FullName!, e.Message);

        // A tag that names another type than the one asked for is refused too.
        var tagged = Node.Map("evil.Payload").Add("Name", Node.String("x"));
        Assert.Throws<BrineLimitException>(() => ObjectReader.FromNode<Person>(tagged));

        // Primitives and collections need no allowance.
        Assert.Equal(new List<object?> { 1L }, ObjectReader.FromNode<object>(Node.List(Node.Int(1))));
    }

    [Fact]
    public void Registered_types_and_namespaces_are_allowed()
    {
        var person = ObjectWriter.ToNode(new Person { Name = "x", Age = 3 });
        var byType = new ObjectOptions { Types = TypePolicy.Default.Allow<Person>() };
        Assert.Equal(3, Assert.IsType<Person>(ObjectReader.FromNode<object>(person, byType)).Age);
        var byNamespace = new ObjectOptions { Types = TypePolicy.Default.AllowNamespace("Brine.Tests.Objects") };
        Assert.Equal(3, Assert.IsType<Person>(ObjectReader.FromNode<object>(person, byNamespace)).Age);
        var otherNamespace = new ObjectOptions { Types = TypePolicy.Default.AllowNamespace("Brine.Tests.Obj") };
        Assert.Throws<BrineLimitException>(() => ObjectReader.FromNode<object>(person, otherNamespace));
        // A tag allowed but of the wrong type for the member is refused.
        var notAnimal = Node.Map(typeof(Zoo).FullName).Add("Animals", Node.List(person));
        Assert.Throws<BrineFormatException>(() => ObjectReader.FromNode<Zoo>(notAnimal, byType));
    }

    [Fact]
    public void Name_map_and_snake_case_let_a_CLR_type_stand_for_a_Python_class()
    {
        var options = new ObjectOptions { Types = TypePolicy.Default.Allow<Customer>("models.Customer"), Naming = MemberNaming.SnakeCase };
        var python = Node.Map("models.Customer")
            .Add("id", Node.Int(5))
            .Add("full_name", Node.String("Ann Lee"))
            .Add("registered_at", Node.Timestamp(new Timestamp(1_700_000_000, 0, null)));
        var c = Assert.IsType<Customer>(ObjectReader.FromNode<object>(python, options));
        Assert.Equal(5, c.Id); Assert.Equal("Ann Lee", c.FullName);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).DateTime, c.RegisteredAt);

        var back = ObjectWriter.ToNode(c, options);
        Assert.Equal("models.Customer", back.Tag);
        Assert.Equal(["id", "full_name", "registered_at"], back.Entries!.Select(e => e.Key.AsString!).ToArray());
        Assert.Equal("http_server_url", TypeShape.SnakeCase("HTTPServerUrl"));
        Assert.Equal("registered_at2", TypeShape.SnakeCase("RegisteredAt2"));
    }
}
