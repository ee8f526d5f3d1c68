using System.Numerics;
using System.Text;
using Brine.Formats;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Json;

/// <summary>Python's json and jsonpickle (Debian's python3) read what Brine writes and write what Brine reads.</summary>
public class JsonPythonOracleTests
{
    // Data Python builds; each test compares on the Python side, where equality is the oracle's own.
    const string PythonData = """
        import json, math
        data = {
            "ascii": "plain", "unicode": "héllo wörld ✓ 🎉 \u0000 \u001f \"q\" \\ /",
            "ints": [0, -1, 2**63 - 1, -2**63, 2**64, -(10**40), 10**60 + 7],
            "floats": [0.1, 1.5, -2.25, 1e300, 5e-324, 1e-7, 123456.789, -0.0, 1.0, 2.0**60],
            "nested": {"a": [[], {}, [None, True, False]], "b": {"c": {"d": [1, [2, [3]]]}}},
            "empty": "", "keys with spaces": 1, "": "empty key",
        }
        """;

    [Fact]
    public void Python_reads_what_Brine_writes_after_reading_Python()
    {
        // Python → Brine (read) → Brine (write, indented and compact) → Python compares with its original.
        var fromPython = Python.RunBytes(PythonData + "\nimport sys; sys.stdout.write(json.dumps(data))");
        var nodes = JsonText.Read(fromPython);
        foreach (var options in new[] { WriteOptionsIndented, JsonText.Compact })
        {
            var written = JsonText.WriteBytes(nodes, options);
            var verdict = Python.Run(PythonData + """

                import sys
                back = json.loads(sys.stdin.buffer.read())
                def same(a, b):
                    if isinstance(a, float) and isinstance(b, float):
                        return a == b and math.copysign(1, a) == math.copysign(1, b)
                    if type(a) != type(b): return False
                    if isinstance(a, dict): return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
                    if isinstance(a, list): return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
                    return a == b
                print("same" if same(data, back) else "DIFFERENT: " + json.dumps(back))
                """, written);
            Assert.Equal("same", verdict.Trim());
        }
    }

    static WriteOptions WriteOptionsIndented => new() { Indent = true };

    [Fact]
    public void Brine_reads_what_Python_writes_with_the_values_it_meant()
    {
        var fromPython = Python.RunBytes(PythonData + "\nimport sys; sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=True))");
        var n = Assert.Single(JsonText.Read(fromPython));
        Assert.Equal("héllo wörld ✓ 🎉 \u0000 \u001f \"q\" \\ /", n["unicode"]!.Value);
        var ints = n["ints"]!.Items!.Select(i => i.Value is long l ? new BigInteger(l) : (BigInteger)i.Value!).ToList();
        Assert.Equal(BigInteger.Pow(10, 60) + 7, ints[6]);
        Assert.Equal(BigInteger.One << 64, ints[4]);
        var floats = n["floats"]!.Items!;
        Assert.All(floats, f => Assert.Equal(TokenKind.Float, f.Kind));
        Assert.Equal(0.1, floats[0].Value);
        Assert.Equal(double.Epsilon, floats[4].Value);
        Assert.True(double.IsNegative((double)floats[7].Value!));
        Assert.Equal("empty key", n[""]!.Value);
    }

    [Fact]
    public void Decimals_keep_every_digit_for_python_decimal()
    {
        const string literal = "3.14159265358979323846264338327950288419716939937510582097494459";
        var n = JsonText.ReadOne("[" + literal + ", 0.1, 12345678901234567890.123456789]");
        Assert.Equal(TokenKind.Decimal, n[0].Kind);
        Assert.Equal(TokenKind.Float, n[1].Kind);
        var written = JsonText.WriteBytes(new[] { n }, JsonText.Compact);
        var verdict = Python.Run("""
            import json, sys, decimal
            v = json.loads(sys.stdin.buffer.read(), parse_float=decimal.Decimal)
            print(str(v[0]), str(v[1]), str(v[2]))
            """, written);
        Assert.Equal(literal + " 0.1 12345678901234567890.123456789", verdict.Trim());
    }

    [Fact]
    public void Json_lines_round_trips_through_python()
    {
        var lines = Python.RunBytes("""
            import json, sys
            for i in range(5): sys.stdout.write(json.dumps({"id": i, "name": "n%d" % i, "tags": ["x"] * i}) + "\n")
            """);
        var values = JsonText.Read(lines, lines: true);
        Assert.Equal(5, values.Count);
        var written = JsonText.WriteBytes(values, lines: true);
        Assert.Equal(5, Encoding.UTF8.GetString(written).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var verdict = Python.Run("""
            import json, sys
            rows = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
            print(rows == [{"id": i, "name": "n%d" % i, "tags": ["x"] * i} for i in range(5)])
            """, written);
        Assert.Equal("True", verdict.Trim());
    }

    // ---- jsonpickle ----

    const string PickleClasses = """
        import jsonpickle, sys
        class User:
            def __init__(self, name, tags):
                self.name = name
                self.tags = tags
        class Point:
            def __init__(self, x, y):
                self.x = x; self.y = y
            def __getstate__(self): return {"x": self.x, "y": self.y}
            def __setstate__(self, s): self.x = s["x"]; self.y = s["y"]
        """;

    [Fact]
    public void Brine_reads_jsonpickle_objects_tuples_sets_bytes_and_shared_references()
    {
        var json = Python.RunBytes(PickleClasses + """

            shared = [1, 2]
            ann = User("ann", ["admin"])
            cyc = []
            cyc.append(cyc)
            data = {"users": [ann, ann, User("bob", ann.tags)], "pair": (shared, shared), "set": {3},
                    "raw": b"\x00\xff", "shared": shared, "cycle": cyc, "point": Point(1, 2)}
            sys.stdout.write(jsonpickle.encode(data, make_refs=True))
            """);
        var n = Assert.Single(JsonText.Read(json));
        var users = n["users"]!;
        Assert.Equal("__main__.User", users[0].Tag);
        Assert.Equal("ann", users[0]["name"]!.Value);
        Assert.Same(users[0], users[1]);
        Assert.Same(users[0]["tags"], users[2]["tags"]);
        var pair = n["pair"]!;
        Assert.Equal("tuple", pair.Tag);
        Assert.Same(pair[0], pair[1]);
        Assert.Same(pair[0], n["shared"]);
        Assert.Equal("set", n["set"]!.Tag);
        Assert.Equal(new byte[] { 0, 255 }, n["raw"]!.Value);
        var cycle = n["cycle"]!;
        Assert.Same(cycle, cycle[0]);
        var point = n["point"]!;
        Assert.Equal("__main__.Point", point.Tag);
        Assert.Equal(2L, point["y"]!.Value);
    }

    [Fact]
    public void Jsonpickle_state_objects_are_numbered_with_their_state_dict()
    {
        var json = Python.RunBytes("""
            import jsonpickle, sys
            class Bag:
                def __init__(self, items): self.items = items
                def __getstate__(self): return {"items": self.items, "n": len(self.items)}
                def __setstate__(self, s): self.items = s["items"]
            shared = [1, 2]
            b = Bag(shared)
            sys.stdout.write(jsonpickle.encode([b, shared, b, {"x": shared}], make_refs=True))
            """);
        Assert.Contains("py/state", Encoding.UTF8.GetString(json));
        var n = Assert.Single(JsonText.Read(json));
        Assert.Equal("__main__.Bag", n[0].Tag);
        Assert.Equal(2L, n[0]["n"]!.Value);
        Assert.Same(n[0]["items"], n[1]);
        Assert.Same(n[0], n[2]);
        Assert.Same(n[1], n[3]["x"]);
    }

    [Fact]
    public void Jsonpickle_decodes_what_Brine_writes_with_references_and_identity()
    {
        // Built in Brine: shared lists, a shared map, a cycle, a typed object shared twice, a tuple of shared items, bytes.
        var shared = Node.List(Node.Int(1), Node.Int(2));
        var sharedMap = Node.Map().Add("k", Node.String("v"));
        var cyc = Node.List();
        cyc.Add(cyc);
        var user = Node.Map("__main__.User").Add("name", Node.String("ann")).Add("tags", shared);
        var tuple = Node.List("tuple");
        tuple.Add(shared).Add(sharedMap);
        var set = Node.List("set");
        set.Add(Node.Int(3));
        var root = Node.Map()
            .Add("a", Node.List(shared, shared))
            .Add("m", Node.List(sharedMap, sharedMap))
            .Add("cycle", cyc)
            .Add("users", Node.List(user, user))
            .Add("t", Node.List(tuple, tuple))
            .Add("s", set)
            .Add("raw", Node.Bytes(new byte[] { 0, 1, 255 }));
        var written = JsonText.WriteBytes(new[] { root }, JsonText.KeepRefs);
        var verdict = Python.Run(PickleClasses + """

            d = jsonpickle.decode(sys.stdin.buffer.read().decode())
            a = d["a"]
            checks = {
                "list shared": a[0] is a[1] and a[0] == [1, 2],
                "map shared": d["m"][0] is d["m"][1] and d["m"][0] == {"k": "v"},
                "cycle": d["cycle"][0] is d["cycle"],
                "object shared": d["users"][0] is d["users"][1] and isinstance(d["users"][0], User) and d["users"][0].name == "ann",
                "object field shares list": d["users"][0].tags is a[0],
                "tuple": isinstance(d["t"][0], tuple) and d["t"][0] == d["t"][1] and d["t"][0][0] is a[0] and d["t"][1][1] is d["m"][0],
                "set": d["s"] == {3},
                "bytes": d["raw"] == b"\x00\x01\xff",
            }
            bad = [k for k, v in checks.items() if not v]
            print("ok" if not bad else "failed: " + ", ".join(bad))
            """, written);
        Assert.Equal("ok", verdict.Trim());
    }

    [Fact]
    public void Brine_numbers_objects_exactly_as_jsonpickle_does()
    {
        // The same graph encoded by jsonpickle and by Brine (after reading jsonpickle's text) gives the same text.
        var json = Python.Run(PickleClasses + """

            shared = [1, 2]
            m = {"k": shared}
            u = User("u", shared)
            data = [{"a": [1]}, {"b": [m, m]}, shared, (shared, 5), u, u, [m, {"py": u}], {1, 2}]
            sys.stdout.write(jsonpickle.encode(data, make_refs=True))
            """);
        var n = JsonText.Read(json);
        var mine = JsonText.Write(n, JsonText.KeepRefs).Trim();
        var verdict = Python.Run("""
            import json, sys
            a, b = sys.stdin.read().split("\n", 1)
            print(json.loads(a) == json.loads(b) or ("DIFFERENT\n" + a + "\n" + b))
            """, Encoding.UTF8.GetBytes(json + "\n" + mine));
        Assert.Equal("True", verdict.Trim());
    }
}
