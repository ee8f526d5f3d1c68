using Brine.Formats;
using Brine.Formats.Pickle;
using Brine.Model;
using Brine.Objects;
using Brine.Tests.Objects;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Pickle;

/// <summary>
/// The direct pickle → objects path must give what the Node path gives (the same objects, the same sharing, the
/// same errors), and must decline to the Node path for what it does not cover.
/// </summary>
public class PickleDirectLoadTests
{
    public sealed class PyUser
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Email { get; set; } = "";
        public string Language { get; set; } = "";
        public DateTime RegisteredAt { get; set; }
        public List<string> Tags { get; set; } = new();
        public PyUser? Referrer { get; set; }
        public Dictionary<string, double> Scores { get; set; } = new();
        public decimal? Balance { get; set; }
        public DateOnly? Born { get; set; }
    }

    static byte[] Pickle(object? value, ObjectOptions options, int protocol = 4)
    {
        var ms = new MemoryStream();
        ObjectWriter.Write(ms, new PickleFormat(), value, options, new WriteOptions { KeepReferences = true, Settings = new Dictionary<string, string> { ["protocol"] = protocol.ToString() } });
        return ms.ToArray();
    }

    /// <summary>Reads with the direct path on or off; the result, or the exception's type and message.</summary>
    static (object? value, Exception? error, int direct) Load(byte[] bytes, Type type, ObjectOptions options, bool direct)
    {
        using var r = new PickleReader(new MemoryStream(bytes)) { DirectObjects = direct };
        try { return (new ObjectReader(options).Read(r, type), null, r.DirectLoads); }
        catch (Exception e) { return (null, e, r.DirectLoads); }
    }

    /// <summary>Both paths agree; returns whether the direct path read the value.</summary>
    static bool Same(byte[] bytes, Type type, ObjectOptions options, Func<object?, Node>? view = null)
    {
        var a = Load(bytes, type, options, direct: true);
        var b = Load(bytes, type, options, direct: false);
        Assert.Equal(0, b.direct);
        if (b.error is not null)
        {
            Assert.NotNull(a.error);
            Assert.Equal(b.error.GetType(), a.error!.GetType());
            Assert.Equal(b.error.Message, a.error.Message);
            return a.direct > 0;
        }
        Assert.Null(a.error);
        view ??= v => ObjectWriter.ToNode(v, options);
        var na = view(a.value); var nb = view(b.value);
        Assert.Null(NodeComparer.Difference(nb, na));
        Assert.Null(PickleTestSupport.SharingDifference(nb, na));
        return a.direct > 0;
    }

    static readonly ObjectOptions Open = new() { Types = TypePolicy.Default.AllowNamespace("Brine.Tests") };

    [Fact]
    public void Shared_references_and_cycles_come_back_shared()
    {
        var ann = new Person { Name = "Ann", Age = 30 };
        var bob = new Person { Name = "Bob", Age = 40, Best = ann };
        ann.Friends.Add(bob); ann.Friends.Add(ann); ann.Best = ann;
        ann.Scores["x"] = 1; bob.Scores["y"] = 2;
        var people = new List<Person> { ann, bob, ann };
        foreach (var p in new[] { 2, 4, 5 })
        {
            var bytes = Pickle(people, Open, p);
            Assert.True(Same(bytes, typeof(List<Person>), Open));
            var (v, _, _) = Load(bytes, typeof(List<Person>), Open, direct: true);
            var list = (List<Person>)v!;
            Assert.Same(list[0], list[2]);
            Assert.Same(list[0], list[0].Best);
            Assert.Same(list[1], list[0].Friends[0]);
            Assert.Same(list[0], list[1].Best);
            // The statically declared type needs no registration, as on the Node path.
            Assert.True(Same(bytes, typeof(List<Person>), ObjectOptions.Default));
        }
    }

    [Fact]
    public void Random_graphs_agree_with_the_Node_path()
    {
        var rng = new Random(7);
        for (int round = 0; round < 20; round++)
        {
            var nodes = Enumerable.Range(0, 30).Select(i => new GraphNode { Id = i, Label = i % 3 == 0 ? null : "n" + i }).ToList();
            foreach (var n in nodes)
            {
                for (int k = rng.Next(3); k > 0; k--) n.Children.Add(nodes[rng.Next(nodes.Count)]);
                if (rng.Next(2) == 0) n.Parent = nodes[rng.Next(nodes.Count)];
                if (rng.Next(3) == 0) n.ByName["k" + rng.Next(5)] = nodes[rng.Next(nodes.Count)];
                n.Payload = rng.Next(5) switch { 0 => 1L, 1 => "s", 2 => new List<object?> { 1L, "a", null }, 3 => nodes[rng.Next(nodes.Count)], _ => null };
            }
            var bytes = Pickle(nodes, Open);
            Same(bytes, typeof(List<GraphNode>), Open);
            Same(bytes, typeof(object), Open);
        }
    }

    [Fact]
    public void Polymorphic_members_and_a_long_linked_list()
    {
        var zoo = new Zoo { Animals = { new Dog { Name = "rex" }, new Cat { Name = "tom", Lives = 3 } } };
        zoo.Mascot = zoo.Animals[1];
        var options = new ObjectOptions { Types = TypePolicy.Default.Allow<Dog>().Allow<Cat>() };
        Assert.True(Same(Pickle(zoo, options), typeof(Zoo), options));
        // Without the allowance both paths refuse the tag the same way.
        Same(Pickle(zoo, options), typeof(Zoo), ObjectOptions.Default);

        LinkedNode? head = null;
        for (int i = 0; i < 5000; i++) head = new LinkedNode { Value = i, Next = head };
        Assert.True(Same(Pickle(head, Open), typeof(LinkedNode), Open));
    }

    [Fact]
    public void Shapes_the_direct_path_does_not_cover_go_through_the_Node_path()
    {
        var user = new User { Id = 1, Name = "Ann", Email = "a@x", Password = "secret" };
        Assert.False(Same(Pickle(new List<User> { user, user }, Open), typeof(List<User>), Open,
            v => Node.List(((List<User>)v!).Select(u => Node.String($"{u.Id} {u.Name} {u.Email} {u.Password} {u.SavedAt:O}")).ToArray())));   // IStateful
        var line = new Line(new Point(1, 2), new Point(3, 4));
        Assert.False(Same(Pickle(line, Open), typeof(Line), Open));                                  // constructor-built record
        var acc = new Account { Id = 7, Owner = "ann", Note = "n" };
        Assert.False(Same(Pickle(acc, Open), typeof(Account), Open, v => Node.String(string.Join(",", ((Account)v!).Log) + ((Account)v!).Owner)));  // callbacks
        // Everything: structs, tuples, sets, Node members, big integers …
        var everything = new Everything { Numbers = [1, 2], Names = ["a"], Unique = [1], Anything = new List<object?> { 1L }, Pair = (1, "x") };
        Same(Pickle(everything, Open), typeof(Everything), Open);
    }

    [Fact]
    public void Versioning_defaults_and_strict_mode()
    {
        // Old data without Volume and Plugins: their declared defaults stay.
        var pickle = Python.RunBytes("""
import pickle, sys, types
class Settings: pass
Settings.__module__ = "Brine.Tests.Objects"
for name in ("Brine", "Brine.Tests", "Brine.Tests.Objects"): sys.modules[name] = types.ModuleType(name)
sys.modules["Brine.Tests.Objects"].Settings = Settings
s = Settings(); s.Theme = "light"
sys.stdout.buffer.write(pickle.dumps(s, 4))
""");
        Assert.True(Same(pickle, typeof(Settings), ObjectOptions.Default));
        var (v, _, _) = Load(pickle, typeof(Settings), ObjectOptions.Default, direct: true);
        var s = (Settings)v!;
        Assert.Equal("light", s.Theme); Assert.Equal(7, s.Volume); Assert.Equal(["spell"], s.Plugins);

        // A member the type does not have: skipped, or an error naming it in strict mode — both through the Node path.
        var extra = Python.RunBytes("""
import pickle, sys, types
class Settings: pass
Settings.__module__ = "Brine.Tests.Objects"
for name in ("Brine", "Brine.Tests", "Brine.Tests.Objects"): sys.modules[name] = types.ModuleType(name)
sys.modules["Brine.Tests.Objects"].Settings = Settings
s = Settings(); s.Theme = "light"; s.Removed = {"deep": [1]}; s.Volume = 3
sys.stdout.buffer.write(pickle.dumps(s, 4))
""");
        Assert.False(Same(extra, typeof(Settings), ObjectOptions.Default));
        Assert.False(Same(extra, typeof(Settings), new ObjectOptions { Strict = true }));
        var (_, error, _) = Load(extra, typeof(Settings), new ObjectOptions { Strict = true }, direct: true);
        Assert.Contains("'Removed'", Assert.IsType<BrineFormatException>(error).Message);
    }

    [Fact]
    public void Type_policy_and_dangerous_globals_are_refused_as_before()
    {
        var bytes = Pickle(new Person { Name = "x" }, Open);
        Assert.False(Same(bytes, typeof(object), ObjectOptions.Default));
        var (_, e, _) = Load(bytes, typeof(object), ObjectOptions.Default, direct: true);
        Assert.Contains(typeof(Person).FullName!, Assert.IsType<BrineLimitException>(e).Message);
        // A tag naming another type than the one asked for.
        var evil = Python.RunBytes("""
import pickle, sys, types
class Payload: pass
Payload.__module__ = "evil"
m = types.ModuleType("evil"); m.Payload = Payload; sys.modules["evil"] = m
p = Payload(); p.Name = "x"
sys.stdout.buffer.write(pickle.dumps(p, 4))
""");
        Assert.False(Same(evil, typeof(Person), ObjectOptions.Default));
        Assert.IsType<BrineLimitException>(Load(evil, typeof(Person), ObjectOptions.Default, direct: true).error);

        // os.system through REDUCE: refused by name, nothing run, whatever the policy.
        var system = Python.RunBytes("""
import pickle, sys, os
class P:
    def __reduce__(self): return (os.system, ("echo pwned",))
sys.stdout.buffer.write(pickle.dumps([P()], 4))
""");
        foreach (var options in new[] { ObjectOptions.Default, Open })
        {
            Assert.False(Same(system, typeof(object), options));
            var (_, err, _) = Load(system, typeof(object), options, direct: true);
            Assert.Contains("system", Assert.IsType<BrineFormatException>(err).Message);
        }
    }

    const string PyModels = """
import pickle, sys, types, datetime, decimal, dataclasses
models = types.ModuleType("models")
@dataclasses.dataclass
class User:
    id: int
    name: str
    email: str
    language: str
    registered_at: datetime.datetime
    tags: list
    referrer: object
    scores: dict
    balance: object
    born: object
User.__module__ = "models"; models.User = User; sys.modules["models"] = models

""";

    [Fact]
    public void Python_dataclass_users_load_directly()
    {
        var pickle = Python.RunBytes(PyModels + """
t = datetime.datetime(2024, 2, 29, 13, 45, 7, 123456)
ann = User(1, "Ann", "ann@example.com", "fi", t, ["a", "b"], None, {"x": 1.5}, decimal.Decimal("12.50"), datetime.date(1990, 5, 17))
users = [ann] + [User(i, "Zoë %d" % i, "u%d@x" % i, "en", t + datetime.timedelta(days=i), [], ann, {}, None, None) for i in range(2, 300)]
for p in (2, 3, 4, 5):
    b = pickle.dumps(users, p)
    sys.stdout.buffer.write(len(b).to_bytes(4, "little") + b)
""");
        var options = new ObjectOptions { Types = TypePolicy.Default.Allow<PyUser>("models.User"), Naming = MemberNaming.SnakeCase };
        for (int at = 0; at < pickle.Length;)
        {
            int n = BitConverter.ToInt32(pickle, at);
            var bytes = pickle.AsSpan(at + 4, n).ToArray();
            at += 4 + n;
            Assert.True(Same(bytes, typeof(List<PyUser>), options));
            Assert.True(Same(bytes, typeof(object), options));
            var users = ObjectReader.ReadFrom<List<PyUser>>(new MemoryStream(bytes), new PickleFormat(), options)!;
            Assert.Equal(299, users.Count);
            var ann = users[0];
            Assert.Equal("Ann", ann.Name); Assert.Equal(["a", "b"], ann.Tags);
            Assert.Equal(new DateTime(2024, 2, 29, 13, 45, 7, DateTimeKind.Unspecified).AddTicks(1234560), ann.RegisteredAt);
            Assert.Equal(12.50m, ann.Balance); Assert.Equal(new DateOnly(1990, 5, 17), ann.Born);
            Assert.Equal(1.5, ann.Scores["x"]);
            Assert.Same(ann, users[5].Referrer);
            Assert.Equal("Zoë 7", users[6].Name);
        }
    }

    [Fact]
    public void The_root_list_filled_as_its_declared_type_agrees_with_the_Node_path()
    {
        // The root List<T> takes items of exactly T (and None) as they are appended; anything else puts them back.
        var nodes = Enumerable.Range(0, 40).Select(i => new GraphNode { Id = i, Label = "n" + i }).ToList();
        for (int i = 1; i < nodes.Count; i++) nodes[i].Parent = nodes[i / 2];
        Assert.True(Same(Pickle(nodes, Open), typeof(List<GraphNode>), Open));
        // The root list held by a member of its own type (shared), and by an untyped member (a copy as List<object>).
        nodes[3].Children = nodes;
        var bytes = Pickle(nodes, Open);
        Same(bytes, typeof(List<GraphNode>), Open);   // (a member that takes the list before it is filled: the Node path)
        var (v, _, _) = Load(bytes, typeof(List<GraphNode>), Open, direct: true);
        Assert.Same(v, ((List<GraphNode>)v!)[3].Children);
        Assert.Equal(40, ((List<GraphNode>)v).Count);
        nodes[3].Children = new(); nodes[5].Payload = nodes;
        Same(Pickle(nodes, Open), typeof(List<GraphNode>), Open);
        Same(Pickle(nodes, Open), typeof(object), Open);

        // Python's root lists: None items, items of another kind, the list inside itself, single APPENDs (protocols 0–1).
        var pickle = Python.RunBytes(PyModels + """
t = datetime.datetime(2024, 2, 29, 13, 45, 7)
def u(i): return User(i, "n%d" % i, "e%d" % i, "en", t, [], None, {}, None, None)
shapes = [[u(1), None, u(2)], [u(1), 5, u(2)], [None], [], [u(i) for i in range(2000)] + ["x"], [u(1), [u(2)]], [u(1), (u(2),)]]
l = [u(1)]; l.append(l); shapes.append(l)
l = [u(1)]; l[0].referrer = u(2); l[0].tags = l; shapes.append(l)
for s in shapes:
    for p in (0, 1, 2, 4, 5):
        b = pickle.dumps(s, p)
        sys.stdout.buffer.write(len(b).to_bytes(4, "little") + b)
""");
        var options = new ObjectOptions { Types = TypePolicy.Default.Allow<PyUser>("models.User"), Naming = MemberNaming.SnakeCase };
        int direct = 0;
        for (int at = 0; at < pickle.Length;)
        {
            int n = BitConverter.ToInt32(pickle, at);
            var b = pickle.AsSpan(at + 4, n).ToArray();
            at += 4 + n;
            if (Same(b, typeof(List<PyUser>), options)) direct++;
            Same(b, typeof(List<object>), options);
            Same(b, typeof(object), options);
        }
        Assert.True(direct >= 9);   // None items, [None] and [] with protocols 2, 4 and 5

        // An item of a derived class after many of the declared one: the taken items go back, in order.
        var mixed = Enumerable.Range(0, 50).Select(i => i == 37 ? new DerivedItem { X = i, Y = "d" } : new BaseItem { X = i }).ToList();
        mixed.Add(mixed[2]);
        var mb = Pickle(mixed, Open);
        Assert.True(Same(mb, typeof(List<BaseItem>), Open));
        var back = ObjectReader.ReadFrom<List<BaseItem>>(new MemoryStream(mb), new PickleFormat(), Open)!;
        Assert.Equal(51, back.Count);
        Assert.IsType<DerivedItem>(back[37]);
        Assert.Same(back[2], back[50]);
    }

    /// <summary>Scalar members only: records of it are parsed whole once the first has been built opcode by opcode.</summary>
    public sealed class Rec
    {
        public long Id { get; set; }
        public int Small { get; set; }
        public string? Name { get; set; }
        public double Score { get; set; }
        public DateTime At { get; set; }
    }

    public sealed class RecWithFlag
    {
        public long Id { get; set; }
        public bool Flag { get; set; }
    }

    public sealed class One { public int Value { get; set; } }

    static readonly ObjectOptions Records = new()
    {
        Types = TypePolicy.Default.Allow<Rec>("models.Rec").Allow<RecWithFlag>("models.RecWithFlag").Allow<One>("models.One"),
        Naming = MemberNaming.SnakeCase,
    };

    static long DirectRecords(byte[] bytes, Type type, ObjectOptions options)
    {
        using var r = new PickleReader(new MemoryStream(bytes));
        new ObjectReader(options).Read(r, type);
        Assert.Equal(1, r.DirectLoads);
        return r.DirectRecords;
    }

    [Fact]
    public void Records_parsed_whole_agree_with_the_Node_path()
    {
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var list = new List<object?>();
        for (int i = 0; i < 6000; i++)
            list.Add(new Rec
            {
                // Ints of every width (and beyond 32 bits, which the record form leaves to the opcodes), None and long
                // strings, NaN and infinities, datetimes with microseconds; frames end inside some records.
                Id = i % 97 == 5 ? (long)int.MaxValue + i : i % 89 == 3 ? -i * 1000L : i * 12345L,
                Small = i % 7 == 0 ? -i : i % 300,
                Name = i % 13 == 0 ? null : i % 101 == 0 ? new string('n', 300) : i % 17 == 0 ? "é😀 " + i : "name " + i,
                Score = i % 50 == 0 ? double.NaN : i % 51 == 0 ? double.NegativeInfinity : i * 0.25,
                At = start.AddTicks(i * 37_123_450L),
            });
        for (int i = 0; i < 2000; i++) list.Add(new One { Value = i * 31 });
        for (int i = 0; i < 500; i++) list.Add(new RecWithFlag { Id = i, Flag = i % 2 == 0 });
        var shared = (Rec)list[10]!;
        list.Add(shared);   // a record fetched from the memo again
        var bytes = Pickle(list, Records);
        Assert.True(Same(bytes, typeof(List<object>), Records));
        long whole = DirectRecords(bytes, typeof(List<object>), Records);
        Assert.True(whole > 7000, $"{whole} records parsed whole");
        var back = ObjectReader.ReadFrom<List<object>>(new MemoryStream(bytes), new PickleFormat(), Records)!;
        Assert.Same(back[10], back[^1]);
        Assert.Equal("é😀 17", ((Rec)back[17]).Name);
        Assert.Equal(start.AddTicks(5 * 37_123_450L), ((Rec)back[5]).At);
    }

    [Fact]
    public void Python_records_with_shared_strings_are_parsed_whole()
    {
        var pickle = Python.RunBytes("""
import pickle, sys, types, datetime, dataclasses
models = types.ModuleType("models")
@dataclasses.dataclass
class Rec:
    id: int
    small: int
    name: object
    score: float
    at: datetime.datetime
Rec.__module__ = "models"; models.Rec = Rec; sys.modules["models"] = models
langs = ["en", "fr", "de"]
t = datetime.datetime(2024, 2, 29, 13, 45, 7, 123456)
shared_t = datetime.datetime(2020, 1, 1)
# (shared_t is first written in full by a record parsed whole, then fetched from the memo by later ones)
recs = [Rec(i, -i, langs[i % 3] if i % 4 else None, i / 3, shared_t if i % 10 == 3 else t + datetime.timedelta(seconds=i)) for i in range(3000)]
for p in (2, 3, 4, 5):
    b = pickle.dumps(recs, p)
    sys.stdout.buffer.write(len(b).to_bytes(4, "little") + b)
""");
        for (int at = 0, protocol = 2; at < pickle.Length; protocol++)
        {
            int n = BitConverter.ToInt32(pickle, at);
            var bytes = pickle.AsSpan(at + 4, n).ToArray();
            at += 4 + n;
            Assert.True(Same(bytes, typeof(List<Rec>), Records));
            if (protocol >= 4) Assert.True(DirectRecords(bytes, typeof(List<Rec>), Records) > 2000);
            var recs = ObjectReader.ReadFrom<List<Rec>>(new MemoryStream(bytes), new PickleFormat(), Records)!;
            Assert.Equal("fr", recs[1].Name);
            Assert.Null(recs[4].Name);
            Assert.Equal(new DateTime(2020, 1, 1), recs[3].At);
            Assert.Equal(new DateTime(2020, 1, 1), recs[23].At);
            Assert.Equal(new DateTime(2024, 2, 29, 13, 45, 7).AddTicks(1234560).AddSeconds(20), recs[20].At);
        }
    }

    [Fact]
    public void Corrupted_pickles_of_records_give_the_Node_paths_value_or_error()
    {
        // Large enough (~200 KB, many frames) that both paths walk the frames for named memo entries first. A byte or
        // three changed at random: the direct path must agree with the Node path (the same value, or the same error),
        // and any error must be a format error.
        var recs = Enumerable.Range(0, 3000).Select(i => new Rec { Id = i * 7919L, Small = i % 300, Name = i % 5 == 0 ? null : "name " + i, Score = i / 3.0, At = new DateTime(2024, 1, 1).AddMinutes(i) }).ToList();
        var nodes = Enumerable.Range(0, 400).Select(i => new GraphNode { Id = i, Label = "n" + i }).ToList();
        for (int i = 1; i < nodes.Count; i++) { nodes[i].Parent = nodes[i / 2]; nodes[i / 2].Children.Add(nodes[i]); }
        var sources = new (byte[] bytes, Type type, ObjectOptions options)[]
        {
            (Pickle(recs, Records), typeof(List<Rec>), Records),
            (Pickle(nodes, Open), typeof(List<GraphNode>), Open),
        };
        var rnd = new Random(77);
        int errors = 0, values = 0;
        foreach (var (full, type, options) in sources)
            for (int k = 0; k < 40; k++)
            {
                var bad = (byte[])full.Clone();
                for (int f = 1 + rnd.Next(3); f > 0; f--) bad[rnd.Next(bad.Length)] = (byte)rnd.Next(256);
                Same(bad, type, options);
                var (_, error, _) = Load(bad, type, options, direct: true);
                if (error is null) values++;
                else { Assert.IsAssignableFrom<BrineFormatException>(error); errors++; }
            }
        Assert.True(errors > 10 && values > 0, $"{errors} errors, {values} values");
    }

    [Fact]
    public void A_key_whose_memo_entry_was_overwritten_is_read_as_the_new_key()
    {
        // Records parsed whole recognise their keys by the bytes of the keys' GETs once one record has matched. A PUT
        // over a key's memo entry (legal, though CPython never writes one) must end that: the next record's key is
        // "id", so the value goes to Id, not to Small as the key before.
        var b = new List<byte> { 0x80, 4 };
        void Str(string v) { b.Add(0x8c); b.Add((byte)v.Length); b.AddRange(System.Text.Encoding.ASCII.GetBytes(v)); }
        Str("models"); b.Add(0x94); Str("Rec"); b.Add(0x94); b.Add(0x93); b.Add(0x94);   // memo 0, 1; the class: 2
        b.AddRange([0x5d, 0x94, 0x28]);                                                       // EMPTY_LIST (3), MARK
        void Record(int value, bool first)
        {
            b.AddRange([0x68, 2, 0x29, 0x81, 0x94, 0x7d, 0x94]);    // BINGET 2, EMPTY_TUPLE, NEWOBJ, MEMOIZE, EMPTY_DICT, MEMOIZE
            if (first) { Str("small"); b.Add(0x94); } else b.AddRange([0x68, 6]);   // the key: memo 6
            b.AddRange([0x4b, (byte)value, 0x73, 0x62]);             // BININT1 value, SETITEM, BUILD
        }
        Record(1, true);
        for (int v = 2; v <= 5; v++) Record(v, false);
        Str("id"); b.AddRange([0x71, 6, 0x30]);                   // BINPUT 6 over the key, POP
        Record(6, false);
        Record(7, false);
        b.AddRange([0x65, 0x2e]);                                    // APPENDS, STOP
        var bytes = b.ToArray();

        Assert.True(Same(bytes, typeof(List<Rec>), Records));
        Assert.True(DirectRecords(bytes, typeof(List<Rec>), Records) >= 3);
        var list = ObjectReader.ReadFrom<List<Rec>>(new MemoryStream(bytes), new PickleFormat(), Records)!;
        Assert.Equal([1, 2, 3, 4, 5, 0, 0], list.Select(o => o.Small));
        Assert.Equal([0, 0, 0, 0, 0, 6, 7], list.Select(o => o.Id));
    }

    [Fact]
    public void Several_pickles_in_one_stream_each_take_their_own_path()
    {
        var options = Open;
        var ms = new MemoryStream();
        foreach (var i in new[] { 1, 2, 3 }) ms.Write(Pickle(new Person { Name = "p" + i, Age = i }, options));
        ms.Write(Pickle(new User { Id = 9, Name = "u" }, options));   // IStateful: the Node path in the middle of a stream
        ms.Write(Pickle(new Person { Name = "p4", Age = 4 }, options));
        ms.Position = 0;
        using var r = new PickleReader(ms);
        var reader = new ObjectReader(options);
        var all = new List<object?>();
        while (reader.TryRead(r, typeof(object), out var v)) all.Add(v);
        Assert.Equal(["p1", "p2", "p3"], all.Take(3).Select(p => ((Person)p!).Name));
        Assert.Equal("u", ((User)all[3]!).Name);
        Assert.Equal("p4", ((Person)all[4]!).Name);
        Assert.Equal(4, r.DirectLoads);
    }
}

public class BaseItem { public int X { get; set; } }
public sealed class DerivedItem : BaseItem { public string? Y { get; set; } }
