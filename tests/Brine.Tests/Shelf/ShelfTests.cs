using Brine.Model;
using Brine.Objects;
using Brine.Tests.Support;
using Xunit;
using ShelfStore = Brine.Shelf.Shelf;

namespace Brine.Tests.Shelf;

public class Customer
{
    public int Id { get; set; }
    public string FullName { get; set; } = "";
    public List<string> Tags { get; set; } = new();
    public Customer? Referrer { get; set; }
}

/// <summary>
/// Python's side of the interop tests is Python 3.13's own <c>shelve</c> over <c>dbm.sqlite3</c> (the
/// <see cref="Python313"/> oracle that <c>./scripts/test</c> prepares), each script in its own process.
/// </summary>
public class ShelfTests
{
    /// <summary>Python 3.13 with <c>models.Customer</c>, the class the CLR <see cref="Customer"/> is mapped to.</summary>
    internal const string Py = """
import dbm, dbm.sqlite3, shelve, sqlite3, sys, time, types
assert sys.version_info[:2] == (3, 13), sys.version
models = types.ModuleType("models"); sys.modules["models"] = models
class Customer:
    def __init__(self, id, full_name, tags): self.id, self.full_name, self.tags, self.referrer = id, full_name, tags, None
Customer.__module__ = "models"; models.Customer = Customer

""";

    static readonly Brine.Shelf.ShelfOptions Mapped = new() { Objects = new ObjectOptions { Types = TypePolicy.Default.Allow<Customer>("models.Customer"), Naming = MemberNaming.SnakeCase } };

    static ShelfStore Open(string path) => ShelfStore.Open(path);

    [Fact]
    public void Set_get_list_delete_and_persist()
    {
        using var dir = new TempDir();
        var path = dir.File("s.db");
        using (var s = Open(path))
        {
            s.Set("a", Node.List(Node.Int(1), Node.String("x")));
            s.Set("ünï", Node.Map().Add("k", Node.Float(1.5)));
            s.Set("a", Node.Int(2));
            Assert.Equal(2, s.Count);
            Assert.True(s.Delete("ünï"));
            Assert.False(s.Delete("missing"));
            Assert.Null(s.Get("missing"));
        }
        using var again = Open(path);
        Assert.Equal(["a"], again.List());
        Assert.Equal(2L, again.Get("a")!.Value);
    }

    [Fact]
    public void Object_graphs_are_stored_as_pickles()
    {
        using var dir = new TempDir();
        var options = Mapped;
        var ann = new Customer { Id = 1, FullName = "Ann", Tags = ["vip"] };
        var bob = new Customer { Id = 2, FullName = "Bob", Referrer = ann };
        ann.Referrer = bob;
        using (var s = ShelfStore.Open(dir.File("c.db"), options)) s.Set("ann", ann);
        using (var s = ShelfStore.Open(dir.File("c.db"), options))
        {
            var back = s.Get<Customer>("ann")!;
            Assert.Equal("Ann", back.FullName);
            Assert.Same(back, back.Referrer!.Referrer);
            Assert.Equal((byte)0x80, s.GetBytes("ann")![0]); // PROTO
            Assert.Equal(4, s.GetBytes("ann")![1]);
        }
    }

    [Fact]
    public void Python_reads_what_Brine_writes_and_Brine_reads_what_Python_writes()
    {
        using var dir = new TempDir();
        var path = dir.File("shared.db");
        using (var s = Open(path))
        {
            s.Set("numbers", Node.List(Node.Int(1), Node.Int(2), Node.Int(3)));
            s.Set("user", Node.Map().Add("name", Node.String("Ann")).Add("langs", new[] { "fr", "en" }.Aggregate(Node.List("set"), (l, x) => l.Add(Node.String(x)))));
            s.Set("clé", Node.Bytes([0, 1, 2]));
        }
        var output = Python313.Run(Py + """
print(dbm.whichdb(sys.argv[1]))
with shelve.open(sys.argv[1]) as sh:
    print(sorted(sh.keys()), len(sh), "clé" in sh, "nope" in sh)
    print(sh["numbers"], sh["user"]["name"], sorted(sh["user"]["langs"]), type(sh["user"]["langs"]).__name__, sh["clé"])
    sh["from_python"] = {"id": 7, "when": (1, 2.5), "none": None, "text": "héllo"}
    del sh["numbers"]
""", null, path);
        Assert.Equal("dbm.sqlite3\n['clé', 'numbers', 'user'] 3 True False\n[1, 2, 3] Ann ['en', 'fr'] set b'\\x00\\x01\\x02'\n", output);
        using var again = Open(path);
        Assert.Equal(["clé", "from_python", "user"], again.List().Order());
        var v = again.Get<Dictionary<string, object?>>("from_python")!;
        Assert.Equal(7L, v["id"]);
        Assert.Equal(new object?[] { 1L, 2.5 }, v["when"]);
        Assert.Null(v["none"]);
        Assert.Equal("héllo", v["text"]);
    }

    [Fact]
    public void Python_class_instances_read_as_mapped_CLR_types()
    {
        using var dir = new TempDir();
        var path = dir.File("models.db");
        Python313.Run(Py + """
with shelve.open(sys.argv[1]) as sh:
    a = Customer(1, "Ann", ["vip"]); b = Customer(2, "Bob", []); a.referrer = b; b.referrer = a
    sh["ann"] = a
print(dbm.whichdb(sys.argv[1]))
""", null, path);
        using var s = ShelfStore.Open(path, Mapped);
        var ann = s.Get<Customer>("ann")!;
        Assert.Equal("Ann", ann.FullName); Assert.Equal(["vip"], ann.Tags);
        Assert.Equal("Bob", ann.Referrer!.FullName);
        Assert.Same(ann, ann.Referrer.Referrer);
        // Without the name map the Python class is refused.
        using var plain = Open(path);
        Assert.Throws<BrineLimitException>(() => plain.Get<object>("ann"));
    }

    [Fact]
    public void CLR_objects_read_in_Python_as_instances_of_the_mapped_class()
    {
        using var dir = new TempDir();
        var path = dir.File("clr.db");
        var ann = new Customer { Id = 1, FullName = "Ann", Tags = ["vip", "fr"] };
        ann.Referrer = new Customer { Id = 2, FullName = "Bob", Referrer = ann };
        using (var s = ShelfStore.Open(path, Mapped)) s.Set("ann", ann);
        var output = Python313.Run(Py + """
with shelve.open(sys.argv[1], "r") as sh:
    a = sh["ann"]
    print(type(a) is Customer, a.id, a.full_name, a.tags, a.referrer.full_name, a.referrer.referrer is a)
""", null, path);
        Assert.Equal("True 1 Ann ['vip', 'fr'] Bob True\n", output);
    }

    [Fact]
    public void The_table_Brine_creates_is_the_one_dbm_sqlite3_creates()
    {
        using var dir = new TempDir();
        var brine = dir.File("brine.db");
        var python = dir.File("python.db");
        using (var s = Open(brine)) s.Set("k", Node.Int(1));
        Python313.Run(Py + "with shelve.open(sys.argv[1]) as sh: sh['k'] = 1\n", null, python);
        using (var s = Open(python)) s.Set("b", Node.Int(2));   // Brine writing into Python's file
        const string describe = """
for path in sys.argv[1:]:
    cx = sqlite3.connect(path)
    print(dbm.whichdb(path), cx.execute("PRAGMA journal_mode").fetchone()[0],
          cx.execute("PRAGMA table_info(Dict)").fetchall(), cx.execute("PRAGMA index_list(Dict)").fetchall(),
          cx.execute("SELECT typeof(key), typeof(value), key FROM Dict ORDER BY key").fetchall())
""";
        var lines = Python313.Run(Py + describe, null, brine, python).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        const string columns = "wal [(0, 'key', 'BLOB', 1, None, 0), (1, 'value', 'BLOB', 1, None, 0)] [(0, 'sqlite_autoindex_Dict_1', 1, 'u', 0)]";
        Assert.Equal($"dbm.sqlite3 {columns} [('blob', 'blob', b'k')]", lines[0]);
        Assert.Equal($"dbm.sqlite3 {columns} [('blob', 'blob', b'b'), ('blob', 'blob', b'k')]", lines[1]);
    }

    [Fact]
    public void A_batch_is_all_or_nothing()
    {
        using var dir = new TempDir();
        var path = dir.File("b.db");
        using var s = Open(path);
        s.Set("keep", Node.Int(0));
        using (var batch = s.BeginBatch())
        {
            batch.Set("x", Node.Int(1));
            batch.Delete("keep");
            // Another connection sees nothing of the open batch.
            using var other = ShelfStore.Open(path, new Brine.Shelf.ShelfOptions { ReadOnly = true });
            Assert.Equal(["keep"], other.List());
        } // disposed without Commit: rolled back
        Assert.Equal(["keep"], s.List());
        using (var batch = s.BeginBatch())
        {
            for (int i = 0; i < 100; i++) batch.Set("k" + i, Node.Int(i));
            batch.Commit();
        }
        Assert.Equal(101, s.Count);
        using var ro = ShelfStore.Open(path, new Brine.Shelf.ShelfOptions { ReadOnly = true });
        Assert.Throws<BrineUsageException>(() => ro.Set("y", Node.Int(1)));
    }

    [Fact]
    public void A_Python_writer_killed_inside_a_transaction_leaves_exactly_the_committed_entries()
    {
        using var dir = new TempDir();
        var path = dir.File("crash.db");
        using (var s = Open(path)) s.Set("before", Node.String("kept"));
        // shelve commits every item on its own (dbm.sqlite3 connects with autocommit=True). To die mid-batch, the
        // writer opens a transaction on dbm.sqlite3's own connection and keeps writing through shelve.
        using var p = Python313.Start(Py + """
sh = shelve.open(sys.argv[1])
for i in range(50): sh[f"committed{i}"] = {"i": i}
sh.dict._cx.execute("BEGIN IMMEDIATE")
for i in range(5000): sh[f"pending{i}"] = {"i": i, "pad": "x" * 200}
assert len(sh) == 5051
print("open", flush=True)
time.sleep(120)
""", path);
        var line = p.StandardOutput.ReadLine();
        Assert.True(line == "open", line is null ? p.StandardError.ReadToEnd() : line);   // stderr only once it has ended
        p.Kill();   // SIGKILL while the transaction is open
        p.WaitForExit();
        using (var s2 = Open(path))
        {
            var keys = s2.List().Order().ToList();
            Assert.Equal(51, keys.Count);
            Assert.DoesNotContain(keys, k => k.StartsWith("pending"));
            for (int i = 0; i < 50; i++) Assert.Equal((long)i, s2.Get("committed" + i)!["i"]!.Value);
            Assert.Equal("kept", s2.Get("before")!.AsString);
            // The lock died with the process: writing works.
            s2.Set("after", Node.Int(1));
            Assert.Equal(52, s2.Count);
        }
        var check = Python313.Run(Py + """
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])
with shelve.open(sys.argv[1], "r") as sh:
    keys = sorted(sh.keys())
    print(len(keys), sum(k.startswith("pending") for k in keys), sh["before"], sh["after"],
          all(sh[f"committed{i}"] == {"i": i} for i in range(50)))
""", null, path);
        Assert.Equal("ok\n52 0 kept 1 True\n", check);
    }

    [Fact]
    public void Readers_and_a_writer_in_other_processes_work_at_once()
    {
        using var dir = new TempDir();
        var path = dir.File("conc.db");
        const int n = 300;
        using (var s = Open(path)) s.Set("seed", Node.Int(-1));

        // A Python writer commits one entry at a time (shelve's own autocommit) while Brine reads and writes.
        using var writer = Python313.Start(Py + """
with shelve.open(sys.argv[1]) as sh:
    for i in range(int(sys.argv[2])):
        sh[f"py{i}"] = {"i": i, "payload": list(range(i % 50))}
print("done", flush=True)
""", path, n.ToString());
        // Two Python readers, each in its own process with a read-only shelf, check every value they see decodes and
        // counts never go down, while Brine writes.
        var readerScript = Py + """
with shelve.open(sys.argv[1], "r") as sh:
    last = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        ks = list(sh.keys())
        assert len(ks) >= last, (len(ks), last)
        last = len(ks)
        for k in ks[-20:]:
            assert sh[k] is not None
        if len(ks) >= 2 * int(sys.argv[2]) + 1: break
        time.sleep(0.005)
print(last, flush=True)
""";
        using var r1 = Python313.Start(readerScript, path, n.ToString());
        using var r2 = Python313.Start(readerScript, path, n.ToString());
        using (var s = Open(path))
        {
            long last = 0;
            for (int i = 0; i < n; i++)
            {
                s.Set("cs" + i, Node.Map().Add("i", Node.Int(i)));
                var keys = s.List();
                Assert.True(keys.Count >= last);
                last = keys.Count;
                foreach (var k in keys.TakeLast(5)) Assert.NotNull(s.Get(k));
            }
        }
        var done = writer.StandardOutput.ReadLine();
        writer.WaitForExit();
        Assert.True(writer.ExitCode == 0 && done == "done", writer.StandardError.ReadToEnd());
        foreach (var r in new[] { r1, r2 })
        {
            var line = r.StandardOutput.ReadLine();
            r.WaitForExit();
            Assert.True(r.ExitCode == 0, r.StandardError.ReadToEnd());
            Assert.Equal((2 * n + 1).ToString(), line);
        }
        using var final = Open(path);
        Assert.Equal(2 * n + 1, final.Count);
        for (int i = 0; i < n; i++) Assert.Equal((long)i, final.Get("py" + i)!["i"]!.Value);
    }
}
