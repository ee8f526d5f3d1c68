using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Brine.Formats;
using Brine.Formats.Pickle;
using Brine.Model;
using Brine.Objects;
using MessagePack;

namespace Brine.Bench;

/// <summary>
/// Object-graph snapshots: dump and load of (a) a million <c>User</c> records and (b) a graph with shared references
/// and cycles, as Brine pickles (object mapper + pickle writer/reader), beside CPython's C pickle on the same data,
/// MessagePack-CSharp (no references) and System.Text.Json with <see cref="ReferenceHandler.Preserve"/>.
/// Usage: <c>snapshot [records] [graph-nodes]</c> (defaults 1,000,000 and 100,000); <c>snapshot splits [records]</c>
/// times each stage of Brine's dump and load alone (where the time goes); <c>snapshot ab [records] [graph-nodes] [rounds] [filter]</c>
/// alternates Brine's and MessagePack-CSharp's steps in one process (steadier ratios on a shared machine).
/// </summary>
public static class SnapshotBench
{
    // MessagePack attributes make the anchor as fast as MessagePack-CSharp gets (array form, integer keys);
    // Brine and System.Text.Json ignore them.
    [MessagePackObject]
    public sealed class User
    {
        [Key(0)] public long Id { get; set; }
        [Key(1)] public string Name { get; set; } = "";
        [Key(2)] public string Email { get; set; } = "";
        [Key(3)] public string Language { get; set; } = "";
        [Key(4)] public DateTime RegisteredAt { get; set; }
    }

    /// <summary>An org chart and a friendship graph in one: Manager/Reports make cycles, Friends share references.</summary>
    [MessagePackObject]
    public sealed class Person
    {
        [Key(0)] public long Id { get; set; }
        [Key(1)] public string Name { get; set; } = "";
        [Key(2)] public Person? Manager { get; set; }
        [Key(3)] public List<Person> Reports { get; set; } = new();
        [Key(4)] public List<Person> Friends { get; set; } = new();
    }

    static readonly string[] Languages = ["en", "fr", "de", "es", "it"];

    static readonly ObjectOptions Options = new()
    {
        Types = TypePolicy.Default.Allow<User>("models.User").Allow<Person>("models.Person"),
        Naming = MemberNaming.SnakeCase,
    };

    static readonly Format Pickle = new PickleFormat();

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "splits") return Splits(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000);
        if (args.Length > 0 && args[0] == "ab") return Alternate(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000,
            args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100_000, args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5,
            args.Length > 4 ? args[4] : "");
        int records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        int nodes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var dir = Directory.CreateTempSubdirectory("brine-snapshot-").FullName;
        var results = new List<Row>();
        try
        {
            UsersBench(records, dir, results);
            GraphBench(nodes, dir, results);
            PythonAnchor(dir, records, results);
        }
        finally { Directory.Delete(dir, true); }

        var md = Measure.Table($"Object-graph snapshots: {records:N0} users, a {nodes:N0}-person graph", results.Select(r => r.ToResult()))
            + "\n" + Summary(results, records, nodes);
        Measure.Save("snapshot", md);
        return 0;
    }

    /// <summary>One measured step; ratios are filled in at the end.</summary>
    sealed class Row
    {
        public required string Work, Who;
        public double Seconds = double.NaN;
        public long Bytes, Allocated = -1, Peak, Before;
        public string Note = "";
        public Measure.Result ToResult()
        {
            var parts = new List<string>();
            if (Bytes > 0) parts.Add($"out {Bytes / 1e6:F1} MB");
            if (Allocated >= 0) parts.Add($"alloc {Allocated / 1e6:F0} MB");
            if (Before > 0) parts.Add($"RSS before {Before / 1e6:F0} MB");
            if (Note.Length > 0) parts.Add(Note);
            return new(Work, Who, Seconds, Bytes > 0 && Seconds > 0 ? Bytes / 1e6 / Seconds : 0, Peak, string.Join("; ", parts));
        }
    }

    static Row Step(List<Row> results, string work, string who, Func<long> action, string note = "")
    {
        Console.Error.WriteLine($"{work} / {who} …");
        var row = new Row { Work = work, Who = who, Note = note };
        long bytes = 0, allocated = 0;
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        row.Before = Environment.WorkingSet;
        Measure.ResetPeak();
        row.Seconds = Measure.Median(3, () =>
        {
            long a = GC.GetTotalAllocatedBytes(true);
            bytes = action();
            allocated = GC.GetTotalAllocatedBytes(true) - a;
        });
        row.Peak = Measure.PeakWorkingSet();
        row.Bytes = bytes;
        row.Allocated = allocated;
        results.Add(row);
        Console.Error.WriteLine($"  {row.Seconds:F3} s, {bytes / 1e6:F1} MB, alloc {allocated / 1e6:F0} MB, peak {row.Peak / 1e6:F0} MB");
        return row;
    }

    /// <summary>Where the time of a Brine dump and load goes (<c>snapshot splits [records]</c>): each stage alone.</summary>
    static int Splits(int records)
    {
        var users = MakeUsers(records);
        void T(string what, Action a)
        {
            var pause = GC.GetTotalPauseDuration();
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            long alloc = GC.GetTotalAllocatedBytes(true);
            double s = Measure.Median(3, a);
            Console.WriteLine($"{what,-42} {s:F3} s; 4 runs: GC pause {(GC.GetTotalPauseDuration() - pause).TotalSeconds:F2} s, gen0/1/2 {GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}, alloc {(GC.GetTotalAllocatedBytes(true) - alloc) / 4e6:F0} MB/run");
        }
        T("object tokens (ObjectTokenReader drain)", () => { using var r = new ObjectTokenReader(users, Options); while (r.Read()) { } });
        T("objects → Node (ObjectWriter.ToNode)", () => ObjectWriter.ToNode(users, Options));
        var node = ObjectWriter.ToNode(users, Options);
        T("Node → pickle (WriteNode)", () => { using var w = new PickleWriter(Stream.Null); w.WriteNode(node); });
        T("Node → tokens → pickle (pump)", () => { using var w = new PickleWriter(Stream.Null); using var r = new NodeReader(node); TokenPump.Copy(r, w); });
        T("objects → pickle (ObjectWriter)", () => DumpObjects(users));
        var bytes = DumpObjects(users);
        T("pickle → Node (PickleReader+NodeBuilder)", () => { using var r = new PickleReader(new MemoryStream(bytes)); NodeBuilder.ReadValue(r); });
        T("pickle tokens (PickleReader drain)", () => { using var r = new PickleReader(new MemoryStream(bytes)); while (r.Read()) { } });
        T("Node → objects (FromNode)", () => ObjectReader.FromNode<List<User>>(node, Options));
        T("pickle → objects (ObjectReader)", () => LoadObjects<List<User>>(bytes));
        return 0;
    }

    /// <summary>
    /// Brine beside MessagePack-CSharp in one process, runs alternating (<c>snapshot ab [records] [graph-nodes] [rounds]</c>):
    /// on a shared machine the ratio of medians of interleaved runs is steadier than figures taken minutes apart.
    /// </summary>
    /// <param name="only">Runs only the steps whose name contains this (e.g. "load Brine", for a profiler).</param>
    static int Alternate(int records, int nodes, int rounds, string only)
    {
        var users = MakeUsers(records);
        var graph = MakeGraph(nodes);
        byte[] pickle = DumpObjects(users), mp = MessagePackSerializer.Serialize(users), gp = DumpObjects(graph);
        Check(users, LoadObjects<List<User>>(pickle));
        var tree = UsersAsNodes(users);
        byte[] plain = DumpNode(tree);
        var steps = new (string name, Action run)[]
        {
            ("users dicts dump Brine", () => DumpNode(tree)),
            ("users dicts load Brine", () => { using var r = new PickleReader(new MemoryStream(plain, false)); NodeBuilder.ReadValue(r); }),
            ("users dump Brine", () => DumpObjects(users)),
            ("users dump MessagePack", () => MessagePackSerializer.Serialize(users)),
            ("users dump Brine to Stream.Null", () => ObjectWriter.Write(Stream.Null, Pickle, users, Options)),
            ("users load Brine", () => LoadObjects<List<User>>(pickle)),
            ("users load MessagePack", () => MessagePackSerializer.Deserialize<List<User>>(mp)),
            ("graph dump Brine", () => DumpObjects(graph)),
            ("graph load Brine", () => LoadObjects<List<Person>>(gp)),
        };
        steps = steps.Where(s => s.name.Contains(only, StringComparison.Ordinal)).ToArray();
        var times = steps.Select(_ => new List<double>()).ToArray();
        var gcs = new int[steps.Length]; var pauses = new double[steps.Length]; var allocs = new long[steps.Length];
        for (int round = -1; round < rounds; round++)
            for (int i = 0; i < steps.Length; i++)
            {
                GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
                int g = GC.CollectionCount(0) + GC.CollectionCount(1) * 1000 + GC.CollectionCount(2) * 1000000;
                var pause = GC.GetTotalPauseDuration(); long a = GC.GetTotalAllocatedBytes(true);
                var sw = System.Diagnostics.Stopwatch.StartNew();
                steps[i].run();
                double s = sw.Elapsed.TotalSeconds;
                if (round < 0) continue;
                times[i].Add(s);
                gcs[i] = GC.CollectionCount(0) + GC.CollectionCount(1) * 1000 + GC.CollectionCount(2) * 1000000 - g;
                pauses[i] += (GC.GetTotalPauseDuration() - pause).TotalSeconds;
                allocs[i] = GC.GetTotalAllocatedBytes(true) - a;
            }
        double Med(int i) { var t = times[i].OrderBy(x => x).ToList(); return t[t.Count / 2]; }
        for (int i = 0; i < steps.Length; i++)
            Console.WriteLine($"{steps[i].name,-24} median {Med(i):F3} s  (min {times[i].Min():F3}); GC pause {pauses[i] / rounds:F3} s/run, last run gen2/1/0 {gcs[i] / 1000000}/{gcs[i] / 1000 % 1000}/{gcs[i] % 1000}, alloc {allocs[i] / 1e6:F0} MB");
        if (only.Length == 0) Console.WriteLine($"MessagePack / Brine: dump {Med(3) / Med(2):F2}×, load {Med(6) / Med(5):F2}×");
        return 0;
    }

    // ---- (a) a million users ----

    static List<User> MakeUsers(int n)
    {
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var users = new List<User>(n);
        for (int i = 0; i < n; i++)
            users.Add(new User
            {
                Id = i, Name = "User " + i, Email = "user" + i + "@example.com", Language = Languages[i % 5],
                RegisteredAt = start.AddSeconds(i * 37L),
            });
        return users;
    }

    static Node UsersAsNodes(List<User> users)
    {
        // Keys shared as a Python dict display shares them (the memo then writes each once).
        Node kId = Node.String("id"), kName = Node.String("name"), kEmail = Node.String("email"),
            kLanguage = Node.String("language"), kRegistered = Node.String("registered_at");
        var list = Node.List();
        foreach (var u in users)
            list.Add(Node.Map().Add(kId, Node.Int(u.Id)).Add(kName, Node.String(u.Name)).Add(kEmail, Node.String(u.Email))
                .Add(kLanguage, Node.String(u.Language)).Add(kRegistered, Node.Timestamp(Timestamp.FromDateTime(u.RegisteredAt))));
        return list;
    }

    /// <summary>Brine's byte-array form, as MessagePack-CSharp's <c>Serialize</c> returns one.</summary>
    static byte[] DumpObjects(object value) => ObjectWriter.ToBytes(Pickle, value, Options);

    static byte[] DumpNode(Node tree)
    {
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, leaveOpen: true)) { w.WriteNode(tree); w.Finish(); }
        return ms.ToArray();
    }

    static T LoadObjects<T>(byte[] pickle) => ObjectReader.ReadFrom<T>(new MemoryStream(pickle, false), Pickle, Options)!;

    static void UsersBench(int records, string dir, List<Row> results)
    {
        var users = MakeUsers(records);
        const string work = "users dump", load = "users load";

        // The plain-data (Node) steps first: they grow the heap to gigabytes, and a load that follows finds committed
        // memory where one run before them takes a page fault per fresh 4 KiB (≈ 0.1 s on 1M users). Run first, every
        // object load below (Brine, MessagePack-CSharp, System.Text.Json) meets the same warm heap.
        var tree = UsersAsNodes(users);
        byte[] plain = [];
        Step(results, work, "Brine Node (dicts) → pickle 4", () =>
        {
            var ms = new MemoryStream();
            using (var w = new PickleWriter(ms, leaveOpen: true)) { w.WriteNode(tree); w.Finish(); }
            return (plain = ms.ToArray()).Length;
        }, "plain data: a list of dicts");
        tree = null;
        File.WriteAllBytes(Path.Combine(dir, "users-dicts.pkl"), plain);
        Step(results, load, "Brine pickle 4 → Node (dicts)", () =>
        {
            using var r = new PickleReader(new MemoryStream(plain, false));
            return NodeBuilder.ReadValue(r)!.Items!.Count == records ? plain.Length : throw new InvalidOperationException("lost users");
        }, "plain data: a list of dicts");

        // Razorvine.Pickle, the .NET pickle library: the same dicts as .NET dictionaries, and the same bytes loaded
        // into its Hashtables.
        var dicts = users.Select(u => (object)new Dictionary<string, object>
        {
            ["id"] = u.Id, ["name"] = u.Name, ["email"] = u.Email, ["language"] = u.Language, ["registered_at"] = u.RegisteredAt,
        }).ToList();
        Step(results, work, "Razorvine.Pickle (dicts)", () => new Razorvine.Pickle.Pickler(true).dumps(dicts).Length, "plain data: a list of Dictionary<string, object>; protocol 2");
        dicts = null;
        Step(results, load, "Razorvine.Pickle (dicts)", () => ((System.Collections.IList)new Razorvine.Pickle.Unpickler().loads(plain)).Count == records ? plain.Length : throw new InvalidOperationException("lost users"),
            "Brine's plain-data pickle (CPython's bytes) into ArrayList/Hashtable");
        plain = [];

        byte[] pickle = [];
        Step(results, work, "Brine objects → pickle 4", () => (pickle = DumpObjects(users)).Length);
        File.WriteAllBytes(Path.Combine(dir, "users.pkl"), pickle);
        Step(results, load, "Brine pickle 4 → objects", () => { var back = LoadObjects<List<User>>(pickle); return back.Count == records ? pickle.Length : throw new InvalidOperationException("lost users"); });
        Check(users, LoadObjects<List<User>>(pickle));

        Step(results, work, "Razorvine.Pickle (objects)", () => new Razorvine.Pickle.Pickler(true).dumps(users).Length, "each object as a dict of its properties (no class); protocol 2");
        Step(results, load, "Razorvine.Pickle (objects)", () => ((System.Collections.IList)new Razorvine.Pickle.Unpickler().loads(pickle)).Count == records ? pickle.Length : throw new InvalidOperationException("lost users"),
            "Brine's pickle of the objects into its ClassDicts (it makes no CLR objects)");

        byte[] mp = [];
        Step(results, work, "MessagePack-CSharp", () => (mp = MessagePackSerializer.Serialize(users)).Length, "[MessagePackObject] arrays, no references");
        Step(results, load, "MessagePack-CSharp", () => MessagePackSerializer.Deserialize<List<User>>(mp).Count == records ? mp.Length : throw new InvalidOperationException());
        mp = [];

        var stj = new JsonSerializerOptions { ReferenceHandler = ReferenceHandler.Preserve };
        byte[] json = [];
        Step(results, work, "System.Text.Json Preserve", () => (json = JsonSerializer.SerializeToUtf8Bytes(users, stj)).Length);
        Step(results, load, "System.Text.Json Preserve", () => JsonSerializer.Deserialize<List<User>>(json, stj)!.Count == records ? json.Length : throw new InvalidOperationException());
    }

    static void Check(List<User> a, List<User> b)
    {
        for (int i = 0; i < a.Count; i++)
            if (a[i].Id != b[i].Id || a[i].Name != b[i].Name || a[i].Email != b[i].Email || a[i].Language != b[i].Language || a[i].RegisteredAt != b[i].RegisteredAt)
                throw new InvalidOperationException($"user {i} differs after the round trip");
    }

    // ---- (b) a graph with shared references and cycles ----

    /// <summary>
    /// A complete 10-ary org chart numbered in preorder (so a depth-first writer's nesting stays as deep as the tree,
    /// as CPython's recursive pickler needs); each person also has up to 3 friends among the people numbered before.
    /// The root is the list of everyone.
    /// </summary>
    static List<Person> MakeGraph(int n)
    {
        const int Fanout = 10;
        // Preorder of the complete tree whose breadth-first children of b are 10b+1 … 10b+10.
        var order = new int[n];
        var todo = new Stack<int>();
        todo.Push(0);
        int next = 0;
        while (todo.Count > 0)
        {
            int b = todo.Pop();
            order[b] = next++;
            for (int c = Fanout; c >= 1; c--) if ((long)b * Fanout + c < n) todo.Push(b * Fanout + c);
        }
        var people = new Person[n];
        for (int b = 0; b < n; b++) people[order[b]] = new Person { Id = order[b], Name = "Person " + order[b] };
        for (int b = 1; b < n; b++)
        {
            var p = people[order[b]];
            var manager = people[order[(b - 1) / Fanout]];
            p.Manager = manager;
            manager.Reports.Add(p);
        }
        for (int k = 1; k < n; k++)
            for (int t = 0; t < 3 && t < k; t++)
                people[k].Friends.Add(people[(int)(((long)k * 2654435761L + t * 40503L) % k)]);
        return people.ToList();
    }

    static void GraphBench(int nodes, string dir, List<Row> results)
    {
        var graph = MakeGraph(nodes);
        byte[] pickle = [];
        Step(results, "graph dump", "Brine objects → pickle 4", () => (pickle = DumpObjects(graph)).Length, "references kept");
        File.WriteAllBytes(Path.Combine(dir, "graph.pkl"), pickle);
        Step(results, "graph load", "Brine pickle 4 → objects", () => LoadObjects<List<Person>>(pickle).Count == nodes ? pickle.Length : throw new InvalidOperationException());
        CheckGraph(graph, LoadObjects<List<Person>>(pickle));

        // Razorvine.Pickle writes each object as a dict by value, so it keeps no object's identity: not a snapshot of
        // this graph. It loads Brine's pickle (into its ClassDicts, the references shared through the memo).
        results.Add(new Row { Work = "graph dump", Who = "Razorvine.Pickle", Note = "cannot: objects are written as dicts by value, identity and cycles are lost" });
        Step(results, "graph load", "Razorvine.Pickle", () => ((System.Collections.IList)new Razorvine.Pickle.Unpickler().loads(pickle)).Count == nodes ? pickle.Length : throw new InvalidOperationException(),
            "Brine's pickle into its ClassDicts");

        // Not attempted: MessagePack-CSharp keeps no references, and its generated formatters follow a cycle until the
        // stack overflows (measured: the process dies), which no exception handler catches.
        results.Add(new Row { Work = "graph dump", Who = "MessagePack-CSharp", Note = "cannot: no references; a cycle overflows the stack" });

        // Preserve nests a list's $values one level deeper; the org chart is ~6 levels, far below this.
        var stj = new JsonSerializerOptions { ReferenceHandler = ReferenceHandler.Preserve, MaxDepth = 256 };
        byte[] json = [];
        Step(results, "graph dump", "System.Text.Json Preserve", () => (json = JsonSerializer.SerializeToUtf8Bytes(graph, stj)).Length);
        Step(results, "graph load", "System.Text.Json Preserve", () => JsonSerializer.Deserialize<List<Person>>(json, stj)!.Count == nodes ? json.Length : throw new InvalidOperationException());
    }

    static void CheckGraph(List<Person> a, List<Person> b)
    {
        var index = new Dictionary<Person, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < b.Count; i++) index[b[i]] = i;
        for (int i = 0; i < a.Count; i++)
        {
            var (x, y) = (a[i], b[i]);
            bool same = x.Id == y.Id && x.Name == y.Name && (x.Manager is null ? y.Manager is null : index[y.Manager!] == x.Manager.Id)
                && x.Reports.Select(p => p.Id).SequenceEqual(y.Reports.Select(p => (long)index[p]))
                && x.Friends.Select(p => p.Id).SequenceEqual(y.Friends.Select(p => (long)index[p]));
            if (!same) throw new InvalidOperationException($"person {i} differs after the round trip");
        }
    }

    // ---- CPython's C pickle on the same data ----

    const string PythonScript = """
        import dataclasses, datetime, json, pickle, resource, sys, time, types

        models = types.ModuleType("models")
        @dataclasses.dataclass
        class User:
            id: int
            name: str
            email: str
            language: str
            registered_at: datetime.datetime
        class Person:
            pass
        User.__module__ = Person.__module__ = "models"
        models.User, models.Person = User, Person
        sys.modules["models"] = models

        def peak_reset():
            try:
                with open("/proc/self/clear_refs", "w") as f: f.write("5")
            except OSError: pass
        def peak():
            try:
                with open("/proc/self/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"): return int(line.split()[1]) * 1024
            except OSError: pass
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        def rss():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"): return int(line.split()[1]) * 1024
            return 0

        def step(work, who, fn, note=""):
            print(f"{work} / {who} …", file=sys.stderr, flush=True)
            before = rss()
            peak_reset()
            out = fn()  # warm-up
            times = []
            for _ in range(3):
                t = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t)
            times.sort()
            print(json.dumps({"work": work, "who": who, "seconds": times[1], "bytes": len(out) if isinstance(out, bytes) else out,
                              "peak": peak(), "before": before, "note": note}), flush=True)
            return out

        d = sys.argv[1]
        n = int(sys.argv[2])
        langs = ["en", "fr", "de", "es", "it"]
        start = datetime.datetime(2024, 1, 1)
        # Generated as a Python program has them (dict keys and the five languages are shared objects) ...
        dicts = [{"id": i, "name": f"User {i}", "email": f"user{i}@example.com", "language": langs[i % 5],
                  "registered_at": start + datetime.timedelta(seconds=i * 37)} for i in range(n)]
        # ... and checked against what Brine wrote.
        with open(d + "/users-dicts.pkl", "rb") as f: assert pickle.load(f) == dicts, "Brine's dicts differ"
        b = step("users dump", "CPython pickle.dumps (dicts)", lambda: pickle.dumps(dicts, protocol=4))
        nb = len(b)
        step("users load", "CPython pickle.loads (dicts)", lambda: (pickle.loads(b), nb)[1])
        del b
        objs = [User(**x) for x in dicts]
        del dicts
        with open(d + "/users.pkl", "rb") as f: assert pickle.load(f) == objs, "Brine's users differ"
        b = step("users dump", "CPython pickle.dumps (dataclasses)", lambda: pickle.dumps(objs, protocol=4))
        nb = len(b)
        step("users load", "CPython pickle.loads (dataclasses)", lambda: (pickle.loads(b), nb)[1])
        del b, objs
        with open(d + "/graph.pkl", "rb") as f: graph = pickle.load(f)
        assert all(p.manager is None or p in p.manager.reports for p in graph), "Brine's graph lost its cycles"
        b = step("graph dump", "CPython pickle.dumps", lambda: pickle.dumps(graph, protocol=4), "the graph loaded from Brine's pickle")
        nb = len(b)
        step("graph load", "CPython pickle.loads", lambda: (pickle.loads(b), nb)[1])
        """;

    static void PythonAnchor(string dir, int records, List<Row> results)
    {
        var script = Path.Combine(dir, "anchor.py");
        File.WriteAllText(script, PythonScript);
        Console.Error.WriteLine("CPython anchor …");
        string output;
        try { output = Measure.Run("/usr/bin/python3", script, dir, records.ToString(CultureInfo.InvariantCulture)); }
        catch (Exception e) { Console.Error.WriteLine("python anchor skipped: " + e.Message); return; }
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var o = JsonDocument.Parse(line).RootElement;
            results.Add(new Row
            {
                Work = o.GetProperty("work").GetString()!, Who = o.GetProperty("who").GetString()!,
                Seconds = o.GetProperty("seconds").GetDouble(), Bytes = o.GetProperty("bytes").GetInt64(),
                Peak = o.GetProperty("peak").GetInt64(), Before = o.GetProperty("before").GetInt64(),
                Note = o.GetProperty("note").GetString()!,
            });
        }
    }

    // ---- summary ----

    static string Summary(List<Row> rows, int records, int nodes)
    {
        double S(string work, string who) => rows.FirstOrDefault(r => r.Work == work && r.Who == who)?.Seconds ?? double.NaN;
        string X(double anchor, double brine) => double.IsNaN(anchor) || double.IsNaN(brine) ? "n/a" : $"{anchor / brine:F2}×";
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("Ratios are time ratios on the same data (anchor seconds / Brine seconds: above 1× Brine is faster). The machine is shared and noisy: medians of 3 runs after a warm-up; compare ratios, not absolute figures.").AppendLine();
        sb.AppendLine("| comparison | dump | load | target |").AppendLine("| --- | ---: | ---: | --- |");
        void Line(string what, string brineDump, string brineLoad, string anchorDump, string anchorLoad, string workPrefix, string target) =>
            sb.AppendLine($"| {what} | {X(S(workPrefix + " dump", anchorDump), S(workPrefix + " dump", brineDump))} | {X(S(workPrefix + " load", anchorLoad), S(workPrefix + " load", brineLoad))} | {target} |");
        Line("users objects: CPython dataclasses / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "CPython pickle.dumps (dataclasses)", "CPython pickle.loads (dataclasses)", "users", "≥ 3×");
        Line("users dicts: CPython dicts / Brine Node", "Brine Node (dicts) → pickle 4", "Brine pickle 4 → Node (dicts)", "CPython pickle.dumps (dicts)", "CPython pickle.loads (dicts)", "users", "none: plain data through Node, what `brine convert` runs; the targets are on objects");
        Line("users dicts: Razorvine.Pickle / Brine Node", "Brine Node (dicts) → pickle 4", "Brine pickle 4 → Node (dicts)", "Razorvine.Pickle (dicts)", "Razorvine.Pickle (dicts)", "users", "the .NET pickle library");
        Line("users objects: Razorvine.Pickle / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "Razorvine.Pickle (objects)", "Razorvine.Pickle (objects)", "users", "the .NET pickle library");
        Line("users objects: MessagePack-CSharp / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "MessagePack-CSharp", "MessagePack-CSharp", "users", "≥ 0.5× (within 2×)");
        Line("users objects: STJ Preserve / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "System.Text.Json Preserve", "System.Text.Json Preserve", "users", "");
        Line("graph: CPython / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "CPython pickle.dumps", "CPython pickle.loads", "graph", "≥ 3×");
        Line("graph: Razorvine.Pickle / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "Razorvine.Pickle", "Razorvine.Pickle", "graph", "the .NET pickle library");
        Line("graph: STJ Preserve / Brine", "Brine objects → pickle 4", "Brine pickle 4 → objects", "System.Text.Json Preserve", "System.Text.Json Preserve", "graph", "");
        sb.AppendLine().AppendLine($"Users: {records:N0} records (id, name, email, language, registered_at as a naive datetime). Graph: {nodes:N0} people in a 10-ary org chart (manager ↔ reports cycles) with up to 3 friends each (shared references); the root is the list of everyone. CPython's users are generated in Python (shared dict keys and language strings, as a Python program has them) and checked equal to what Brine wrote; its graph is Brine's pickle loaded. Allocation is the managed bytes allocated by one run (GC.GetTotalAllocatedBytes); peak is the process's peak resident set during the step (VmHWM after a reset), which includes the data already in memory (RSS before). CPython allocation is not measured.");
        return sb.ToString();
    }
}
