using System.Numerics;
using System.Text;
using System.Text.Json;
using Brine.Formats.Pickle;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.Pickle;

/// <summary>
/// Plain values at protocols 0–5 against Debian's python3: Brine's bytes equal <c>pickle.dumps(obj, protocol=N)</c>,
/// Brine reads Python's pickles back to the same graph (sharing kept), and Python loads Brine's pickles.
/// One python run serves every test (the fixture).
/// </summary>
public sealed class PickleOracleFixture
{
    public static readonly int[] Protocols = [0, 1, 2, 3, 4, 5];

    public List<(string name, Node value)> Cases { get; } = PickleCases.All();
    /// <summary>(case, protocol) → Python's bytes.</summary>
    public Dictionary<(string, int), byte[]> PythonBytes { get; } = new();
    /// <summary>(case, protocol) → Brine's bytes.</summary>
    public Dictionary<(string, int), byte[]> BrineBytes { get; } = new();
    /// <summary>(case, protocol) → "ok" or why Python could not load Brine's pickle to an equal value.</summary>
    public Dictionary<(string, int), string> PythonLoads { get; } = new();

    const string Script = """
import sys, json, pickle
cases = json.loads(sys.stdin.read())
out = []
for c in cases:
    env = {}
    exec(c['code'], env)
    obj = env['obj']
    for p, bhex in c['brine'].items():
        p = int(p)
        mine = pickle.dumps(obj, protocol=p)
        try:
            loaded = pickle.loads(bytes.fromhex(bhex))
            again = pickle.dumps(loaded, protocol=p)
            verdict = 'ok' if again == mine else 'loaded, but re-pickles differently'
        except Exception as e:
            verdict = 'load failed: %r' % (e,)
        out.append({'name': c['name'], 'p': p, 'py': mine.hex(), 'load': verdict})
sys.stdout.write(json.dumps(out))
""";

    public PickleOracleFixture()
    {
        var payload = new List<object>();
        foreach (var (name, value) in Cases)
        {
            var brine = new Dictionary<string, string>();
            foreach (var p in Protocols)
            {
                var bytes = PickleTestSupport.Write(value, p);
                BrineBytes[(name, p)] = bytes;
                brine[p.ToString()] = Convert.ToHexString(bytes);
            }
            payload.Add(new { name, code = PickleTestSupport.ToPython(value), brine });
        }
        var output = Python.Run(Script, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(payload)));
        foreach (var r in JsonDocument.Parse(output).RootElement.EnumerateArray())
        {
            var key = (r.GetProperty("name").GetString()!, r.GetProperty("p").GetInt32());
            PythonBytes[key] = Convert.FromHexString(r.GetProperty("py").GetString()!);
            PythonLoads[key] = r.GetProperty("load").GetString()!;
        }
    }
}

public sealed class PickleOracleTests(PickleOracleFixture fx, ITestOutputHelper log) : IClassFixture<PickleOracleFixture>
{
    /// <summary>(case, protocol) pairs whose bytes are known to differ from CPython's; a new difference fails the test.</summary>
    static readonly HashSet<string> KnownByteDifferences = new();

    [Fact]
    public void BrineBytesEqualCPythonDumps()
    {
        int total = 0, same = 0;
        var failures = new List<string>();
        foreach (var (name, _) in fx.Cases)
            foreach (var p in PickleOracleFixture.Protocols)
            {
                total++;
                var py = fx.PythonBytes[(name, p)];
                var mine = fx.BrineBytes[(name, p)];
                if (py.AsSpan().SequenceEqual(mine)) { same++; continue; }
                int at = 0;
                while (at < py.Length && at < mine.Length && py[at] == mine[at]) at++;
                var msg = $"{name}@{p}: first difference at byte {at} (python {py.Length} bytes, brine {mine.Length}): python {Hex(py, at)} brine {Hex(mine, at)}";
                log.WriteLine(msg);
                if (!KnownByteDifferences.Contains($"{name}@{p}")) failures.Add(msg);
            }
        log.WriteLine($"byte-identical to pickle.dumps: {same}/{total}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    static string Hex(byte[] b, int at) => Convert.ToHexString(b.AsSpan(Math.Max(0, at - 4), Math.Min(16, b.Length - Math.Max(0, at - 4))));

    [Fact]
    public void ReadsCPythonPicklesToTheSameGraph()
    {
        int total = 0, ok = 0;
        var failures = new List<string>();
        foreach (var (name, value) in fx.Cases)
            foreach (var p in PickleOracleFixture.Protocols)
            {
                total++;
                Node read;
                try { read = PickleTestSupport.Read(fx.PythonBytes[(name, p)]); }
                catch (Exception e) { failures.Add($"{name}@{p}: {e.Message}"); continue; }
                var diff = NodeComparer.Difference(value, read) ?? PickleTestSupport.SharingDifference(value, read);
                if (diff is null) ok++; else failures.Add($"{name}@{p}: {diff}");
            }
        log.WriteLine($"Python's pickles read to the expected graph: {ok}/{total}");
        foreach (var f in failures) log.WriteLine(f);
        Assert.Empty(failures);
    }

    [Fact]
    public void GraphHandedOverEqualsTheTokenPath()
    {
        // NodeBuilder.ReadValue takes the pickle loader's graph whole; through tokens (a builder given) the graph is
        // rebuilt from anchors and aliases. Both must give the same values and the same sharing.
        foreach (var (name, _) in fx.Cases)
            foreach (var p in PickleOracleFixture.Protocols)
            {
                var bytes = fx.PythonBytes[(name, p)];
                var whole = PickleTestSupport.Read(bytes);
                using var r = new PickleReader(new MemoryStream(bytes));
                var viaTokens = NodeBuilder.ReadValue(r, new NodeBuilder())!;
                Assert.Null(NodeComparer.Difference(viaTokens, whole));
                Assert.Null(PickleTestSupport.SharingDifference(viaTokens, whole));
            }
    }

    [Fact]
    public void KeepingOnlyTheMemoEntriesGetsNameChangesNothing()
    {
        // Every pickle, CPython's and Brine's, gives the same tokens (anchor names included) and graphs with the walk
        // for GET targets as without it, and none needs a rerun.
        foreach (var (name, _) in fx.Cases)
            foreach (var p in PickleOracleFixture.Protocols)
            {
                Assert.Equal(0, PickleMemoKeepTests.AssertSame(fx.PythonBytes[(name, p)]));
                Assert.Equal(0, PickleMemoKeepTests.AssertSame(fx.BrineBytes[(name, p)]));
            }
    }

    [Fact]
    public void PythonLoadsBrinePickles()
    {
        var bad = fx.PythonLoads.Where(kv => kv.Value != "ok").Select(kv => $"{kv.Key.Item1}@{kv.Key.Item2}: {kv.Value}").ToList();
        log.WriteLine($"Brine's pickles loaded by Python and equal (identity included): {fx.PythonLoads.Count - bad.Count}/{fx.PythonLoads.Count}");
        foreach (var b in bad) log.WriteLine(b);
        Assert.Empty(bad);
    }

    [Fact]
    public void TokenPathWritesTheSameBytesAsTheGraphPath()
    {
        // Through TokenPump the graph travels as anchors and aliases; the writer must rebuild the same sharing.
        foreach (var (name, value) in fx.Cases)
        {
            var viaTokens = PickleTestSupport.WriteTokens(value, 4);
            Assert.True(viaTokens.AsSpan().SequenceEqual(fx.BrineBytes[(name, 4)]), name);
        }
    }
}

/// <summary>The values compared with CPython.</summary>
static class PickleCases
{
    static Node S(string s) => Node.String(s);
    static Node I(BigInteger v) => Node.Int(v);
    static Node L(params Node[] items) => Node.List(items);
    static Node T(params Node[] items) { var t = Node.List("tuple"); t.Items!.AddRange(items); return t; }
    static Node Tagged(string tag, params Node[] items) { var t = Node.List(tag); t.Items!.AddRange(items); return t; }
    static Node M(params (object key, Node value)[] entries)
    {
        var m = Node.Map();
        foreach (var (k, v) in entries) m.Add(k is Node kn ? kn : k is string ks ? S(ks) : I((long)(int)k), v);
        return m;
    }

    public static List<(string, Node)> All()
    {
        var r = new List<(string, Node)>();
        r.Add(("none", Node.Null()));
        r.Add(("true", Node.Bool(true)));
        r.Add(("false_in_list", L(Node.Bool(false), Node.Bool(true))));
        r.Add(("ints", L(I(-1), I(0), I(1), I(127), I(128), I(-128), I(-129), I(255), I(256), I(65535), I(65536), I(int.MaxValue), I(BigInteger.Pow(2, 31)),
            I(int.MinValue), I(-BigInteger.Pow(2, 31) - 1), I(BigInteger.Pow(2, 63)), I(long.MaxValue), I(long.MinValue), I(-BigInteger.Pow(2, 100)), I(BigInteger.Pow(10, 50)),
            I(BigInteger.Pow(2, 2100)), I(-BigInteger.Pow(2, 2100)))));
        r.Add(("big_int_alone", I(BigInteger.Pow(10, 50))));
        r.Add(("floats", L(Node.Float(0.1), Node.Float(-0.0), Node.Float(0.0), Node.Float(1.0), Node.Float(double.PositiveInfinity), Node.Float(double.NegativeInfinity),
            Node.Float(double.NaN), Node.Float(1e100), Node.Float(1e-5), Node.Float(1.5e16), Node.Float(1e16), Node.Float(1e15), Node.Float(123.456), Node.Float(-2.5e-300), Node.Float(5e-324))));
        r.Add(("strings", L(S("hello"), S("héllo wörld €"), S("😀 emoji"), S("a\nb\\c\0\r\u001a end"), S("quote ' and \""), S(new string('x', 300) + "y"), S(""))));
        r.Add(("str_over_64k", L(S("before"), S(string.Concat(Enumerable.Range(0, 7000).Select(i => $"line {i:D4}\n"))), S("after"))));
        var rnd = new Random(7);
        var b300 = new byte[300]; rnd.NextBytes(b300);
        var b100k = new byte[100_000]; rnd.NextBytes(b100k);
        r.Add(("bytes", L(Node.Bytes([0, 1, (byte)'a', (byte)'b', 0xff]), Node.Bytes(b300), Node.Bytes([]))));
        r.Add(("bytes_100k", L(Node.Bytes([9, 8, 7]), Node.Bytes(b100k), S("tail"))));
        var ba = Node.Bytes([1, 2, 3]); ba.Tag = "bytearray";
        var baEmpty = Node.Bytes([]); baEmpty.Tag = "bytearray";
        r.Add(("bytearray", L(ba, baEmpty)));
        r.Add(("nested", M(("name", S("brine")), ("list", L(I(1), I(2), T(I(3), I(4)))), ("inner", M(("c", Node.Null()), ("d", L(L(L())))) ))));
        r.Add(("empties", L(L(), Node.Map(), T(), Tagged("set"), Tagged("frozenset"))));
        r.Add(("empty_tuple_twice", L(T(), T())));
        r.Add(("sets", L(Tagged("set", I(1), I(2), I(3)), Tagged("frozenset", I(1), I(2), I(3)))));
        r.Add(("tuples", L(T(I(1)), T(I(1), I(2)), T(I(1), I(2), I(3)), T(I(1), I(2), I(3), I(4)), T(T(S("nested"))))));
        var x = L(I(1), I(2));
        var shared = S("shared string");
        r.Add(("shared_refs", L(x, x, shared, shared, M(("x", x)))));
        var t = T(I(1), S("ab"));
        r.Add(("shared_tuple", L(t, t)));
        var d = Node.Map(); d.Add("self", d); d.Add("n", I(1));
        r.Add(("dict_cycle", d));
        var l = Node.List(); l.Add(l);
        r.Add(("list_cycle", l));
        var tl = Node.List(); var tc = T(tl); tl.Add(tc);
        r.Add(("tuple_cycle", tc));
        var tl4 = Node.List(); var tc4 = T(tl4, I(1), I(2), I(3)); tl4.Add(tc4);
        r.Add(("tuple_cycle_mark", tc4));
        r.Add(("list_1500", L(Enumerable.Range(0, 1500).Select(i => I(i)).ToArray())));
        r.Add(("list_1001", L(Enumerable.Range(0, 1001).Select(i => I(i)).ToArray())));
        r.Add(("list_1000", L(Enumerable.Range(0, 1000).Select(i => I(i)).ToArray())));
        var d1000 = Node.Map(); for (int i = 0; i < 1000; i++) d1000.Add(I(i), I(i * 2));
        r.Add(("dict_1000", d1000));
        var d2001 = Node.Map(); for (int i = 0; i < 2001; i++) d2001.Add(S("k" + i), I(i));
        r.Add(("dict_2001", d2001));
        r.Add(("set_1000", Tagged("set", Enumerable.Range(0, 1000).Select(i => I(i)).ToArray())));
        r.Add(("frozenset_1500", Tagged("frozenset", Enumerable.Range(0, 1500).Select(i => I(i)).ToArray())));
        r.Add(("ints_100k", L(Enumerable.Range(0, 100_000).Select(i => I(i * 7919L)).ToArray())));
        r.Add(("records_5000", L(Enumerable.Range(0, 5000).Select(i => M(("id", I(i)), ("name", S("user" + i)), ("score", Node.Float(i / 3.0)), ("tags", L(S("a" + i), S("b" + i))))).ToArray())));
        r.Add(("keys", M((I(1), S("int")), (Node.Float(2.5), S("float")), (Node.Null(), S("none")), (Node.Bytes([0x68, 0x69]), S("bytes")), (Node.Bool(false), S("bool")))));
        r.Add(("python_types", L(Node.Decimal(DecimalNumber.Parse("1.50")), Node.Decimal(DecimalNumber.Parse("-0.000001")), Node.Decimal(DecimalNumber.Parse("1E-7")),
            Node.Date(new DateOnly(2024, 5, 1)), Node.Time(new TimeOnly(13, 4, 5).Add(TimeSpan.FromTicks(1234560))),
            Node.Uuid(Guid.Parse("12345678-1234-5678-1234-567812345678")),
            Node.Timestamp(new Timestamp(1714566615, 123456000, null)),
            Node.Timestamp(new Timestamp(1714566615, 0, 0)), Node.Timestamp(new Timestamp(1714566000, 5000, 0)))));
        r.Add(("timestamp_offset", Node.Timestamp(new Timestamp(1714566615, 0, 120))));
        // Many naive datetimes (the dump writes them without stand-ins once the class is memoized): memo indexes past
        // 255, several frames, one timestamp node shared, aware ones and dates in between, times before 1970.
        var sharedTs = Node.Timestamp(new Timestamp(1700000000, 999_999_000, null));
        r.Add(("records_datetimes_3000", L(Enumerable.Range(0, 3000).Select(i => M(("id", I(i)), ("name", S("user" + i)),
            ("at", i % 500 == 7 ? sharedTs : i % 701 == 3 ? Node.Timestamp(new Timestamp(1600000000L + i, 0, 60))
                : i % 997 == 1 ? Node.Date(new DateOnly(2020, 1, 1 + i % 28))
                : Node.Timestamp(new Timestamp(-2_000_000_000L + i * 1_234_567L, (i * 7919 % 1_000_000) * 1000, null))))).ToArray())));
        return r;
    }
}
