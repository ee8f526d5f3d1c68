using System.Diagnostics;
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
/// Debian here has Python 3.11, which lacks <c>dbm.sqlite3</c> (3.13). Python's side of the interop tests opens the
/// same file with its <c>sqlite3</c> module and runs dbm.sqlite3's own SQL, with values pickled as <c>shelve</c> does.
/// </summary>
public class ShelfTests
{
    internal const string PyDbm = """
import sqlite3, pickle, sys, os, time
BUILD_TABLE = "CREATE TABLE IF NOT EXISTS Dict (key BLOB UNIQUE NOT NULL, value BLOB NOT NULL)"
LOOKUP_KEY = "SELECT value FROM Dict WHERE key = CAST(? AS BLOB)"
STORE_KV = "REPLACE INTO Dict (key, value) VALUES (CAST(? AS BLOB), CAST(? AS BLOB))"
ITER_KEYS = "SELECT key FROM Dict"
GET_SIZE = "SELECT COUNT (key) FROM Dict"
def connect(path):
    cx = sqlite3.connect(path, isolation_level=None, timeout=30)
    cx.execute("PRAGMA journal_mode = wal")
    cx.execute(BUILD_TABLE)
    return cx
def get(cx, key):
    row = cx.execute(LOOKUP_KEY, (key.encode('utf-8'),)).fetchone()
    return None if row is None else pickle.loads(row[0])
def put(cx, key, value):
    cx.execute(STORE_KV, (key.encode('utf-8'), pickle.dumps(value, 4)))
def keys(cx):
    return [k.decode('utf-8') if isinstance(k, bytes) else k for (k,) in cx.execute(ITER_KEYS)]

""";

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
        var options = new Brine.Shelf.ShelfOptions { Objects = new ObjectOptions { Types = TypePolicy.Default.Allow<Customer>("models.Customer"), Naming = MemberNaming.SnakeCase } };
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
        var output = Python.Run(PyDbm + """
cx = connect(sys.argv[1])
print(sorted(keys(cx)))
print(get(cx, "numbers"), get(cx, "user")["name"], sorted(get(cx, "user")["langs"]), get(cx, "clé"))
put(cx, "from_python", {"id": 7, "when": (1, 2.5), "none": None, "text": "héllo"})
""", null, path);
        Assert.Equal("['clé', 'numbers', 'user']\n[1, 2, 3] Ann ['en', 'fr'] b'\\x00\\x01\\x02'\n", output);
        using var again = Open(path);
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
        Python.Run(PyDbm + """
import types
models = types.ModuleType("models"); sys.modules["models"] = models
class Customer:
    def __init__(self, id, full_name, tags): self.id, self.full_name, self.tags, self.referrer = id, full_name, tags, None
Customer.__module__ = "models"; models.Customer = Customer
cx = connect(sys.argv[1])
a = Customer(1, "Ann", ["vip"]); b = Customer(2, "Bob", []); a.referrer = b; b.referrer = a
put(cx, "ann", a)
""", null, path);
        var options = new Brine.Shelf.ShelfOptions { Objects = new ObjectOptions { Types = TypePolicy.Default.Allow<Customer>("models.Customer"), Naming = MemberNaming.SnakeCase } };
        using var s = ShelfStore.Open(path, options);
        var ann = s.Get<Customer>("ann")!;
        Assert.Equal("Ann", ann.FullName); Assert.Equal(["vip"], ann.Tags);
        Assert.Equal("Bob", ann.Referrer!.FullName);
        Assert.Same(ann, ann.Referrer.Referrer);
        // Without the name map the Python class is refused.
        using var plain = Open(path);
        Assert.Throws<BrineLimitException>(() => plain.Get<object>("ann"));
    }

    [Fact]
    public void Keys_are_stored_as_blobs()
    {
        using var dir = new TempDir();
        var path = dir.File("k.db");
        using (var s = Open(path)) s.Set("k", Node.Int(1));
        var types = Python.Run("import sqlite3,sys\ncx=sqlite3.connect(sys.argv[1])\nprint([r for r in cx.execute('SELECT typeof(key), typeof(value) FROM Dict')])\nprint(cx.execute('PRAGMA journal_mode').fetchone()[0])\nprint(cx.execute(\"SELECT sql FROM sqlite_master WHERE name='Dict'\").fetchone()[0])", null, path);
        Assert.Equal("[('blob', 'blob')]\nwal\nCREATE TABLE Dict (key BLOB UNIQUE NOT NULL, value BLOB NOT NULL)\n", types);
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

    static Process StartPython(string script, params string[] args)
    {
        var psi = new ProcessStartInfo(Python.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public void A_writer_killed_inside_a_transaction_leaves_exactly_the_committed_entries()
    {
        using var dir = new TempDir();
        var path = dir.File("crash.db");
        using (var s = Open(path)) s.Set("before", Node.String("kept"));
        using var p = StartPython(PyDbm + """
cx = connect(sys.argv[1])
for i in range(50): put(cx, f"committed{i}", {"i": i})
cx.execute("BEGIN IMMEDIATE")
for i in range(5000): put(cx, f"pending{i}", {"i": i, "pad": "x" * 200})
print("open", flush=True)
time.sleep(120)
""", path);
        Assert.Equal("open", p.StandardOutput.ReadLine());
        p.Kill();   // SIGKILL while the transaction is open
        p.WaitForExit();
        using var s2 = Open(path);
        var keys = s2.List().Order().ToList();
        Assert.Equal(51, keys.Count);
        Assert.DoesNotContain(keys, k => k.StartsWith("pending"));
        for (int i = 0; i < 50; i++) Assert.Equal((long)i, s2.Get("committed" + i)!["i"]!.Value);
        Assert.Equal("kept", s2.Get("before")!.AsString);
        // The lock died with the process: writing works.
        s2.Set("after", Node.Int(1));
        Assert.Equal(52, s2.Count);
        var check = Python.Run("import sqlite3,sys\ncx=sqlite3.connect(sys.argv[1])\nprint(cx.execute('PRAGMA integrity_check').fetchone()[0])", null, path);
        Assert.Equal("ok\n", check);
    }

    [Fact]
    public void Readers_and_a_writer_in_other_processes_work_at_once()
    {
        using var dir = new TempDir();
        var path = dir.File("conc.db");
        const int n = 300;
        using (var s = Open(path)) s.Set("seed", Node.Int(-1));

        // A Python writer commits one entry at a time while Brine reads.
        using var writer = StartPython(PyDbm + """
cx = connect(sys.argv[1])
for i in range(int(sys.argv[2])):
    put(cx, f"py{i}", {"i": i, "payload": list(range(i % 50))})
print("done", flush=True)
""", path, n.ToString());
        // Two Python readers check every value they see decodes and counts never go down, while Brine writes.
        var readerScript = PyDbm + """
cx = connect(sys.argv[1])
last = 0
deadline = time.time() + 60
while time.time() < deadline:
    ks = keys(cx)
    assert len(ks) >= last, (len(ks), last)
    last = len(ks)
    for k in ks[-20:]:
        v = get(cx, k)
        assert v is not None
    if len(ks) >= 2 * int(sys.argv[2]) + 1: break
    time.sleep(0.005)
print(last, flush=True)
""";
        using var r1 = StartPython(readerScript, path, n.ToString());
        using var r2 = StartPython(readerScript, path, n.ToString());
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
        Assert.Equal("done", writer.StandardOutput.ReadLine());
        writer.WaitForExit();
        Assert.Equal(0, writer.ExitCode);
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
