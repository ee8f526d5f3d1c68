using System.Buffers.Binary;
using System.Text;
using Brine.Formats;
using Brine.Formats.Pickle;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Pickle;

public sealed class PickleBehaviourTests(ITestOutputHelper log)
{
    static Node Deep(int depth)
    {
        var root = Node.List();
        var cur = root;
        for (int i = 1; i < depth; i++) { var next = Node.List(); cur.Add(next); cur = next; }
        return root;
    }

    static int DepthOf(Node n)
    {
        int d = 1;
        while (n.Items is { Count: > 0 } items) { n = items[0]; d++; }
        return d;
    }

    [Fact]
    public void ListNested50000DeepBothWaysWithPython()
    {
        const int depth = 50_000;
        const string script = """
import sys, pickle, threading
sys.setrecursionlimit(10**7)
threading.stack_size(1024*1024*1024)
mine = sys.stdin.buffer.read()
res = {}
def work():
    o = []
    for _ in range(50000 - 1): o = [o]
    res['py'] = pickle.dumps(o, protocol=4)
    x = pickle.loads(mine); d = 1
    while x: x = x[0]; d += 1
    res['depth'] = d
t = threading.Thread(target=work); t.start(); t.join()
sys.stdout.write(res['py'].hex() + ' ' + str(res['depth']))
""";
        var brine = PickleTestSupport.Write(Deep(depth), 4);
        var parts = Python.Run(script, brine).Split(' ');
        Assert.Equal(depth.ToString(), parts[1]);
        var py = Convert.FromHexString(parts[0]);
        Assert.True(py.AsSpan().SequenceEqual(brine), "Brine's deep pickle equals Python's");
        Assert.Equal(depth, DepthOf(PickleTestSupport.Read(py)));
    }

    [Fact]
    public void MillionDeepRoundTripWithoutRecursion()
    {
        const int depth = 1_000_000;
        var bytes = PickleTestSupport.Write(Deep(depth), 5);
        Assert.Equal(depth, DepthOf(PickleTestSupport.Read(bytes)));
        var text = PickleTestSupport.Write(Deep(depth / 5), 0);
        Assert.Equal(depth / 5, DepthOf(PickleTestSupport.Read(text)));
    }

    const string ModelsPy = """
from dataclasses import dataclass

@dataclass
class User:
    name: str
    age: int
""";

    static Node Users()
    {
        var list = Node.List();
        foreach (var (name, age) in new[] { ("ann", 30L), ("bob", 25L) })
        {
            var u = Node.Map("models.User");
            u.Add("name", Node.String(name)); u.Add("age", Node.Int(age));
            list.Add(u);
        }
        return list;
    }

    [Fact]
    public void DataclassInstancesBothWays()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("models.py"), ModelsPy);
        const string script = """
import sys, pickle
sys.path.insert(0, sys.argv[1])
import models
users = [models.User('ann', 30), models.User('bob', 25)]
mine = sys.stdin.read().split()
out = []
for p in range(6):
    loaded = pickle.loads(bytes.fromhex(mine[p]))
    ok = loaded == users and all(type(u) is models.User for u in loaded)
    out.append(pickle.dumps(users, protocol=p).hex() + ':' + ('ok' if ok else 'bad'))
print(' '.join(out))
""";
        var expected = Users();
        var brine = Enumerable.Range(0, 6).Select(p => Convert.ToHexString(PickleTestSupport.Write(expected, p))).ToArray();
        var results = Python.Run(script, Encoding.ASCII.GetBytes(string.Join(' ', brine)), tmp.Path).Trim().Split(' ');
        for (int p = 0; p < 6; p++)
        {
            var (pyHex, verdict) = (results[p].Split(':')[0], results[p].Split(':')[1]);
            Assert.True(verdict == "ok", $"Python loads Brine's models.User at protocol {p}");
            var read = PickleTestSupport.Read(Convert.FromHexString(pyHex));
            Assert.Null(NodeComparer.Difference(expected, read));
            Assert.True(pyHex.Equals(brine[p], StringComparison.OrdinalIgnoreCase), $"protocol {p}: Brine writes the bytes Python writes for the dataclass list");
        }
    }

    [Fact]
    public void OutOfBandBuffersBothWays()
    {
        const string script = """
import sys, pickle
bufs = []
data = pickle.dumps([pickle.PickleBuffer(b'hello out of band'), 'x', pickle.PickleBuffer(bytearray(b'writable'))], protocol=5, buffer_callback=bufs.append)
mine, mbuf = sys.stdin.read().split()
loaded = pickle.loads(bytes.fromhex(mine), buffers=[bytes.fromhex(mbuf)])
ok = bytes(loaded[0]) == b'brine buffer' and loaded[1] == 'y'
ref = pickle.dumps([pickle.PickleBuffer(b'brine buffer'), 'y'], protocol=5, buffer_callback=lambda b: False)
print(data.hex(), ' '.join(bytes(b.raw()).hex() for b in bufs), 'ok' if ok else 'bad', ref.hex())
""";
        var taken = new List<byte[]>();
        var buf = Node.Bytes(Encoding.ASCII.GetBytes("brine buffer")); buf.Tag = "picklebuffer";
        var brine = PickleTestSupport.Write(Node.List(buf, Node.String("y")), 5, b => { taken.Add(b.ToArray()); return true; });
        Assert.Single(taken);
        var parts = Python.Run(script, Encoding.ASCII.GetBytes(Convert.ToHexString(brine) + " " + Convert.ToHexString(taken[0]))).Trim().Split(' ');
        Assert.Equal("ok", parts[3]);
        Assert.Equal(parts[4], Convert.ToHexString(brine), ignoreCase: true);

        var data = Convert.FromHexString(parts[0]);
        var buffers = new ReadOnlyMemory<byte>[] { Convert.FromHexString(parts[1]), Convert.FromHexString(parts[2]) };
        var read = PickleTestSupport.Read(data, buffers);
        Assert.Equal("hello out of band", Encoding.ASCII.GetString((byte[])read[0].Value!));
        Assert.Equal("picklebuffer", read[0].Tag);
        Assert.Equal("x", read[1].AsString);
        Assert.Equal("writable", Encoding.ASCII.GetString((byte[])read[2].Value!));
        var e = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(data));
        Assert.Contains("out-of-band", e.Message);
    }

    static byte[] Proto4(byte[] body)
    {
        var b = new byte[11 + body.Length];
        b[0] = 0x80; b[1] = 4; b[2] = 0x95;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(3), (ulong)body.Length);
        body.CopyTo(b, 11);
        return b;
    }

    static byte[] Cat(params object[] parts)
    {
        var ms = new MemoryStream();
        foreach (var p in parts)
            if (p is string s) ms.Write(Encoding.Latin1.GetBytes(s));
            else if (p is byte[] a) ms.Write(a);
            else ms.WriteByte(Convert.ToByte(p));
        return ms.ToArray();
    }

    static byte[] ShortUnicode(string s) => Cat(0x8c, (byte)Encoding.UTF8.GetByteCount(s), Encoding.UTF8.GetBytes(s), 0x94);

    [Fact]
    public void MaliciousPayloadsAreRefusedByNameAndNothingRuns()
    {
        using var tmp = new TempDir();
        var marker = tmp.File("pwned");
        var cmd = "touch " + marker;
        var payloads = new (string name, byte[] data, string global)[]
        {
            ("protocol 0 GLOBAL", Encoding.ASCII.GetBytes($"cos\nsystem\n(S'{cmd}'\ntR."), "os.system"),
            ("tutorial form", Encoding.ASCII.GetBytes("cos\nsystem\n(S'echo hello world'\ntR."), "os.system"),
            ("protocol 4 STACK_GLOBAL", Proto4(Cat(ShortUnicode("os"), ShortUnicode("system"), 0x93, 0x94, ShortUnicode(cmd), 0x85, 0x94, "R", 0x94, ".")), "os.system"),
            ("posix", Encoding.ASCII.GetBytes($"cposix\nsystem\n(S'{cmd}'\ntR."), "posix.system"),
            ("nt", Encoding.ASCII.GetBytes($"cnt\nsystem\n(S'{cmd}'\ntR."), "nt.system"),
            ("eval", Encoding.ASCII.GetBytes($"c__builtin__\neval\n(S'print(1)'\ntR."), "builtins.eval"),
            ("exec", Encoding.ASCII.GetBytes($"cbuiltins\nexec\n(S'print(1)'\ntR."), "builtins.exec"),
            ("getattr", Encoding.ASCII.GetBytes($"cbuiltins\ngetattr\n(cbuiltins\nobject\nS'x'\ntR."), "builtins.getattr"),
            ("subprocess", Encoding.ASCII.GetBytes($"csubprocess\nPopen\n((S'touch'\nS'{marker}'\nltR."), "subprocess.Popen"),
            ("subprocess call", Encoding.ASCII.GetBytes($"csubprocess\ncheck_output\n(S'{cmd}'\ntR."), "subprocess.check_output"),
            ("INST", Encoding.ASCII.GetBytes($"(S'{cmd}'\nios\nsystem\n."), "os.system"),
            ("OBJ", Encoding.ASCII.GetBytes($"(cos\nsystem\nS'{cmd}'\no."), "os.system"),
            ("NEWOBJ", Cat(0x80, 2, "csubprocess\nPopen\n", "(S'ls'\nt", 0x81, "."), "subprocess.Popen"),
        };
        foreach (var (name, data, global) in payloads)
        {
            var e = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(data));
            log.WriteLine($"{name}: {e.Message}");
            Assert.Contains("refusing to call " + global, e.Message);
            Assert.Matches(@"^pickle: byte \d+: ", e.Message);
        }
        Assert.False(File.Exists(marker), "nothing ran");
    }

    [Fact]
    public void TruncatedPicklesGiveFormatErrors()
    {
        var value = PickleCases.All().First(c => c.Item1 == "python_types").Item2;
        var nested = PickleCases.All().First(c => c.Item1 == "nested").Item2;
        int checkedCount = 0;
        foreach (var p in new[] { 0, 1, 2, 3, 4, 5 })
            foreach (var v in new[] { value, nested })
            {
                var full = PickleTestSupport.Write(v, p);
                for (int len = 1; len < full.Length; len++)
                {
                    var e = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(full[..len]));
                    Assert.StartsWith("pickle: byte ", e.Message);
                    checkedCount++;
                }
            }
        log.WriteLine($"{checkedCount} truncated pickles, each a format error");
        var eTrunc = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read([0x80, 4, 0x95, 1, 0, 0, 0, 0, 0, 0, 0]));
        Assert.Contains("truncated", eTrunc.Message);
    }

    [Fact]
    public void CorruptedPicklesGiveFormatErrorsOrValues()
    {
        var rnd = new Random(1234);
        var sources = new[] { "python_types", "nested", "shared_refs", "tuple_cycle_mark", "strings", "ints" }
            .Select(n => PickleCases.All().First(c => c.Item1 == n).Item2).ToList();
        int errors = 0, values = 0;
        foreach (var p in new[] { 0, 2, 4, 5 })
            foreach (var v in sources)
            {
                var full = PickleTestSupport.Write(v, p);
                for (int i = 0; i < 150; i++)
                {
                    var bad = (byte[])full.Clone();
                    int flips = 1 + rnd.Next(3);
                    for (int f = 0; f < flips; f++) bad[rnd.Next(bad.Length)] = (byte)rnd.Next(256);
                    try
                    {
                        using var r = new PickleReader(new MemoryStream(bad));
                        while (NodeBuilder.ReadValue(r) is not null) { }
                        values++;
                    }
                    catch (BrineFormatException) { errors++; }
                }
            }
        log.WriteLine($"corrupted pickles: {errors} format errors, {values} still readable, no other exception");
        Assert.True(errors > 0);
    }

    [Fact]
    public void MemoGetOfAMissingIndexIsAnError()
    {
        var e = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(Cat(0x80, 2, "]h", 5, ".")));
        Assert.Contains("memo index 5", e.Message);
        Assert.Contains("BINGET", e.Message);
        Assert.Contains("byte 3", e.Message);
    }

    [Fact]
    public void RefusesPersistentIdsAndExtensions()
    {
        Assert.Contains("persistent", Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(Encoding.ASCII.GetBytes("Pabc\n."))).Message);
        Assert.Contains("extension", Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(Cat(0x80, 2, 0x82, 1, "."))).Message);
    }

    [Fact]
    public void ReadsPython2StylePickles()
    {
        // Python 2 str (STRING, SHORT_BINSTRING), INST and the copy_reg reconstructor.
        var r = PickleTestSupport.Read(Encoding.ASCII.GetBytes("(lp0\nS'abc'\np1\naS'it\\'s\\n'\np2\naI5\naL12345678901234567890L\na(i__main__\nPoint\np3\n(dp4\nS'x'\np5\nI1\nsba."));
        Assert.Equal("abc", r[0].AsString);
        Assert.Equal("it's\n", r[1].AsString);
        Assert.Equal(5L, r[2].Value);
        Assert.Equal(System.Numerics.BigInteger.Parse("12345678901234567890"), r[3].Value);
        Assert.Equal("__main__.Point", r[4].Tag);
        Assert.Equal(1L, r[4]["x"]!.Value);
    }

    [Fact]
    public void SeveralPicklesInOneStreamAreSeveralValues()
    {
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, protocol: 4, leaveOpen: true))
        {
            w.WriteInt(1);
            w.StartList(); w.WriteString("a"); w.EndList();
            w.Finish();
        }
        const string script = "import sys, pickle, io\nf = io.BytesIO(sys.stdin.buffer.read())\nprint(pickle.load(f), pickle.load(f))";
        Assert.Equal("1 ['a']", Python.Run(script, ms.ToArray()).Trim());
        using var r = new PickleReader(new MemoryStream(ms.ToArray()));
        var all = NodeBuilder.ReadAll(r);
        Assert.Equal(2, all.Count);
    }

    [Fact]
    public void AnchorsAreNamedAfterMemoIndexes()
    {
        var x = Node.List(Node.Int(1));
        var bytes = PickleTestSupport.Write(Node.List(x, x), 2);
        using var r = new PickleReader(new MemoryStream(bytes));
        var anchors = new List<string>();
        while (r.Read()) { if (r.Anchor is { } a) anchors.Add(a); if (r.Kind == TokenKind.Alias) anchors.Add("*" + r.StringValue); }
        Assert.Equal(["m1", "*m1"], anchors);
    }

    [Fact]
    public void FormatIsRegisteredAndSniffed()
    {
        var f = FormatRegistry.Default.GetByName("pkl");
        Assert.Equal("pickle", f.Name);
        Assert.Same(f, FormatRegistry.Default.FindByPath("x.pickle"));
        Assert.Same(f, FormatRegistry.Default.FindByMediaType("application/x-python-pickle"));
        foreach (var p in new[] { 0, 1, 2, 3, 4, 5 })
            Assert.True(f.Sniff(PickleTestSupport.Write(PickleCases.All().First(c => c.Item1 == "nested").Item2, p)), $"protocol {p} sniffed");
        Assert.False(f.Sniff("{\"a\": 1}"u8));
        Assert.False(f.Sniff("hello world."u8));
        Assert.False(f.Sniff([0x80, 0x09, 0x00]));
    }

    [Fact]
    public void WriterProtocolSettingAndDefault()
    {
        var ms = new MemoryStream();
        using (var w = new PickleFormat().CreateWriter(ms, new WriteOptions { Settings = new Dictionary<string, string> { ["protocol"] = "2" } })) { w.WriteNull(); w.Finish(); }
        Assert.Equal(new byte[] { 0x80, 2, (byte)'N', (byte)'.' }, ms.ToArray());
        var ms4 = new MemoryStream();
        using (var w = new PickleFormat().CreateWriter(ms4, WriteOptions.Default)) { w.WriteNull(); w.Finish(); }
        Assert.Equal(new byte[] { 0x80, 4, (byte)'N', (byte)'.' }, ms4.ToArray());
        Assert.Throws<BrineUsageException>(() => new PickleWriter(new MemoryStream(), protocol: 6));
    }

    [Fact]
    public void TupleCycleWithoutAContainerIsRefused()
    {
        var t = Node.List("tuple"); t.Add(t);
        var e = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Write(t, 4));
        Assert.Contains("contains itself", e.Message);
    }

    [Fact]
    public void DisassemblyMatchesPickletools()
    {
        const string script = """
import sys, pickle, pickletools, io, datetime
d = {'a': [1, 2.5, None, True], 'b': (b'xy', 'caf\u00e9'), 'big': 2**70}
d['self'] = d
out = []
for p in range(6):
    data = pickle.dumps([d, d, {1, 2}, datetime.date(2024, 5, 1)], protocol=p)
    s = io.StringIO(); pickletools.dis(data, s)
    out.append(data.hex() + '\x00' + s.getvalue())
sys.stdout.write('\x01'.join(out))
""";
        int p = 0;
        foreach (var chunk in Python.Run(script).Split('\u0001'))
        {
            var parts = chunk.Split('\0');
            var mine = PickleDisassembler.Disassemble(Convert.FromHexString(parts[0]));
            Assert.Equal(parts[1], mine);
            p++;
        }
        log.WriteLine($"disassembly identical to pickletools at protocols 0–{p - 1}");
        Assert.Equal(6, p);
    }
}
