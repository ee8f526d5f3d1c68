using System.Numerics;
using System.Runtime.Serialization;
using Brine.Model;
using Brine.Objects;

namespace Brine.Tests.Objects;

public enum Color { Red, Green, Blue }

public class Person
{
    public string Name { get; set; } = "";
    public int Age { get; set; }
    public List<Person> Friends { get; set; } = new();
    public Person? Best { get; set; }
    public Dictionary<string, int> Scores { get; set; } = new();
}

public record Point(int X, int Y);
public record Line(Point From, Point To, string Label = "line");
public record Shape(string Name, List<Point> Points) { public Color Fill { get; init; } = Color.Green; }
public record Ring(string Name) { public Ring? Next { get; set; } }
public record Knot(string Name, Knot? Next);

public struct Vec { public double X; public double Y; public string? Label { get; set; } }

public class LinkedNode { public int Value; public LinkedNode? Next; }

public class Everything
{
    public bool Flag { get; set; }
    public byte B { get; set; }
    public sbyte SB { get; set; }
    public short S { get; set; }
    public ushort US { get; set; }
    public int I { get; set; }
    public uint UI { get; set; }
    public long L { get; set; }
    public ulong UL { get; set; }
    public float F { get; set; }
    public double D { get; set; }
    public decimal M { get; set; }
    public BigInteger Big { get; set; }
    public char C { get; set; }
    public string? Text { get; set; }
    public byte[]? Data { get; set; }
    public DateTime When { get; set; }
    public DateTime WhenNaive { get; set; }
    public DateTimeOffset At { get; set; }
    public DateOnly Day { get; set; }
    public TimeOnly Clock { get; set; }
    public TimeSpan Span { get; set; }
    public Guid Id { get; set; }
    public Color Color { get; set; }
    public int? MaybeInt { get; set; }
    public int? NoInt { get; set; }
    public Vec Vector { get; set; }
    public Vec? MaybeVector { get; set; }
    public int[] Numbers { get; set; } = [];
    public List<string> Names { get; set; } = new();
    public HashSet<int> Unique { get; set; } = new();
    public Dictionary<string, double> Weights { get; set; } = new();
    public Dictionary<int, string> ByNumber { get; set; } = new();
    public (int, string) Pair { get; set; }
    public Tuple<string, double, bool>? Triple { get; set; }
    public IReadOnlyList<Point> Points { get; set; } = [];
    public object? Anything { get; set; }
    public Node? Tree { get; set; }
    public int Field;
}

/// <summary>The tutorial's user: GetState drops the password and stamps the time; SetState restores without it.</summary>
public class User : IStateful
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string Email { get; set; } = "";
    public string? Password { get; set; }
    public DateTimeOffset? SavedAt { get; private set; }

    public Node GetState() => Node.Map()
        .Add("id", Node.Int(Id))
        .Add("name", Node.String(Name))
        .Add("email", Node.String(Email))
        .Add("saved_at", Node.Timestamp(Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow)));

    public void SetState(Node state)
    {
        Id = (int)state["id"]!.AsInt64;
        Name = state["name"]!.AsString!;
        Email = state["email"]!.AsString!;
        SavedAt = state["saved_at"] is { Value: Timestamp t } ? t.ToDateTimeOffset() : null;
        Password = null;
    }
}

[DataContract]
public class Account
{
    [DataMember(Name = "account_id", Order = 1)] public int Id { get; set; }
    [DataMember(Order = 0)] public string Owner { get; set; } = "";
    [DataMember(Order = 2)] string _note = "";
    public string Secret { get; set; } = "not written";
    [IgnoreDataMember, DataMember] public string AlsoHidden { get; set; } = "hidden";

    public string Note { get => _note; set => _note = value; }
    public List<string> Log { get; } = new();

    [OnSerializing] void Serializing(StreamingContext _) => Log.Add("serializing");
    [OnSerialized] void Serialized(StreamingContext _) => Log.Add("serialized");
    [OnDeserializing] void Deserializing(StreamingContext _) => Log.Add("deserializing");
    [OnDeserialized] void Deserialized(StreamingContext _) => Log.Add("deserialized:" + Owner);
}

public class Settings
{
    public string Theme { get; set; } = "dark";
    public int Volume { get; set; } = 7;
    public List<string> Plugins { get; set; } = ["spell"];
    [IgnoreDataMember] public string Cache { get; set; } = "cache";
    [NonSerialized] public string Temp = "temp";
    public string Computed => Theme + Volume;
}

public class Customer
{
    public int Id { get; set; }
    public string FullName { get; set; } = "";
    public DateTime RegisteredAt { get; set; }
}

public abstract class Animal { public string Name { get; set; } = ""; }
public class Dog : Animal { public bool Good { get; set; } = true; }
public class Cat : Animal { public int Lives { get; set; } = 9; }
public class Zoo { public List<Animal> Animals { get; set; } = new(); public object? Mascot { get; set; } }

/// <summary>A node of random graphs for the property tests.</summary>
public class GraphNode
{
    public int Id { get; set; }
    public string? Label { get; set; }
    public List<GraphNode> Children { get; set; } = new();
    public GraphNode? Parent { get; set; }
    public Dictionary<string, GraphNode> ByName { get; set; } = new();
    public object? Payload { get; set; }
}
