using Brine.Formats;
using Brine.Model;
using Brine.Objects;
using Brine.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Objects;

/// <summary>CLR object graphs through real formats, with Python's pickle and jsonpickle as oracles.</summary>
public class FormatIntegrationTests(ITestOutputHelper output)
{
    static byte[] Write(string format, object? value, ObjectOptions options)
    {
        var ms = new MemoryStream();
        ObjectWriter.Write(ms, FormatRegistry.Default.GetByName(format), value, options);
        return ms.ToArray();
    }

    static T? Read<T>(string format, byte[] bytes, ObjectOptions options, ReadOptions? readOptions = null) =>
        ObjectReader.ReadFrom<T>(new MemoryStream(bytes), FormatRegistry.Default.GetByName(format), options, readOptions);

    // The pickle reader refuses the uuid.UUID global it writes itself unless allowed (uuid is on its denied list).
    static readonly ReadOptions AllowUuid = new() { Settings = new Dictionary<string, string> { ["allow"] = "uuid.UUID" } };

    /// <remarks>YAML carries anchors, aliases and tags natively. JSON has no decimal, instant or UUID kinds and YAML writes decimals as floats: those payloads would read back as other kinds, so the JSON and YAML rounds use strings there.</remarks>
    [Theory]
    [InlineData("pickle", true)]
    [InlineData("json", false)]
    [InlineData("yaml", false)]
    public void Random_graphs_round_trip_through_formats_with_references_kept(string format, bool typedScalars)
    {
        if (FormatRegistry.Default.FindByName(format) is null) { output.WriteLine($"{format} is not in this build"); return; }
        var rng = new Random(format.Length * 7919);
        for (int round = 0; round < 60; round++)
        {
            var g = GraphPropertyTests.RandomGraph(rng, 1 + rng.Next(30), typedScalars);
            var bytes = Write(format, g, GraphPropertyTests.Options);
            var copy = Read<GraphNode>(format, bytes, GraphPropertyTests.Options, format == "pickle" ? AllowUuid : null)!;
            GraphPropertyTests.AssertIsomorphic(g, copy);
        }
    }

    const string PyModels = """
import sys, types, pickle
models = types.ModuleType("models"); sys.modules["models"] = models
class Customer:
    def __init__(self, id=0, full_name="", registered_at=None): self.id, self.full_name, self.registered_at = id, full_name, registered_at
Customer.__module__ = "models"; models.Customer = Customer

""";

    static readonly ObjectOptions PythonNames = new()
    {
        Types = TypePolicy.Default.Allow<Customer>("models.Customer"),
        Naming = MemberNaming.SnakeCase,
    };

    [Fact]
    public void Python_unpickles_CLR_objects_as_its_classes()
    {
        var c = new Customer { Id = 3, FullName = "Zoë", RegisteredAt = new DateTime(2024, 5, 1, 8, 0, 0, DateTimeKind.Unspecified) };
        var pickle = Write("pickle", new List<Customer> { c, c }, PythonNames);
        var text = Python.Run(PyModels + """
xs = pickle.loads(sys.stdin.buffer.read())
a, b = xs
print(type(a).__module__, type(a).__name__, a is b, a.id, a.full_name, a.registered_at.isoformat())
""", pickle);
        Assert.Equal("models Customer True 3 Zoë 2024-05-01T08:00:00\n", text);
    }

    [Fact]
    public void Python_pickles_read_as_CLR_objects_through_the_name_map()
    {
        var pickle = Python.RunBytes(PyModels + """
import datetime
a = Customer(1, "Ann", datetime.datetime(2023, 1, 2, 3, 4, 5))
sys.stdout.buffer.write(pickle.dumps({"people": [a, a], "count": 2}, 4))
""");
        var data = Read<Dictionary<string, object>>("pickle", pickle, PythonNames)!;
        var people = Assert.IsType<List<object?>>(data["people"]);
        var ann = Assert.IsType<Customer>(people[0]);
        Assert.Same(ann, people[1]);
        Assert.Equal("Ann", ann.FullName);
        Assert.Equal(new DateTime(2023, 1, 2, 3, 4, 5), ann.RegisteredAt);
        // The default policy refuses the class.
        var e = Assert.Throws<BrineLimitException>(() => Read<object>("pickle", pickle, ObjectOptions.Default));
        Assert.Contains("models.Customer", e.Message);
    }

    [Fact]
    public void YAML_shows_objects_as_tagged_maps_with_anchors()
    {
        if (FormatRegistry.Default.FindByName("yaml") is null) { output.WriteLine("yaml is not in this build"); return; }
        var ann = new Person { Name = "Ann", Age = 30 };
        ann.Best = ann;
        var yaml = System.Text.Encoding.UTF8.GetString(Write("yaml", ann, ObjectOptions.Default));
        output.WriteLine(yaml);
        Assert.Contains("Brine.Tests.Objects.Person", yaml);
        Assert.Contains("&id1", yaml);
        Assert.Contains("*id1", yaml);
        var back = Read<Person>("yaml", System.Text.Encoding.UTF8.GetBytes(yaml), ObjectOptions.Default)!;
        Assert.Same(back, back.Best);
    }

    [Fact]
    public void Tutorial_user_round_trips_through_pickle_without_its_password()
    {
        var options = new ObjectOptions { Types = TypePolicy.Default.Allow<User>("models.User") };
        var user = new User { Id = 1, Name = "Ann", Email = "ann@example.com", Password = "hunter2" };
        var pickle = Write("pickle", user, options);
        var text = Python.Run("""
import sys, types, pickle
models = types.ModuleType("models"); sys.modules["models"] = models
class User: pass
User.__module__ = "models"; models.User = User
u = pickle.loads(sys.stdin.buffer.read())
print(sorted(vars(u)), u.name)
""", pickle);
        Assert.Equal("['email', 'id', 'name', 'saved_at'] Ann\n", text);
        var back = Read<User>("pickle", pickle, options)!;
        Assert.Equal("ann@example.com", back.Email);
        Assert.Null(back.Password);
        Assert.NotNull(back.SavedAt);
    }

    [Fact]
    public void Jsonpickle_output_reads_as_CLR_objects()
    {
        if (FormatRegistry.Default.FindByName("json") is null) { output.WriteLine("json is not in this build"); return; }
        var json = Python.RunBytes(PyModels + """
import jsonpickle
a = Customer(7, "Bo"); del a.registered_at
b = Customer(8, "Cy"); del b.registered_at
print(jsonpickle.encode([a, b, a]))
""");
        var people = Read<List<Customer>>("json", json, PythonNames)!;
        Assert.Equal(3, people.Count);
        Assert.Equal("Bo", people[0].FullName); Assert.Equal(8, people[1].Id);
        Assert.Same(people[0], people[2]);
    }
}
