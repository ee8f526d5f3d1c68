using System.Globalization;
using System.Numerics;
using System.Text;
using Brine.Formats;
using Brine.Formats.Pickle;
using Brine.Model;

namespace Brine.Tests.Pickle;

/// <summary>Helpers: write and read pickles through Brine, and turn a Node graph into Python code that builds the same objects.</summary>
static class PickleTestSupport
{
    public static byte[] Write(Node root, int protocol, Func<ReadOnlyMemory<byte>, bool>? callback = null)
    {
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, protocol: protocol, bufferCallback: callback, leaveOpen: true))
        {
            w.WriteNode(root);
            w.Finish();
        }
        return ms.ToArray();
    }

    /// <summary>Writes through the token interface (anchors and aliases), as a conversion would.</summary>
    public static byte[] WriteTokens(Node root, int protocol)
    {
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, protocol: protocol, leaveOpen: true))
        {
            TokenPump.WriteNode(root, w);
            w.Finish();
        }
        return ms.ToArray();
    }

    public static Node Read(byte[] pickle, IReadOnlyList<ReadOnlyMemory<byte>>? buffers = null, ReadOptions? options = null)
    {
        using var r = new PickleReader(new MemoryStream(pickle), options, buffers);
        var n = NodeBuilder.ReadValue(r) ?? throw new InvalidOperationException("no value");
        if (NodeBuilder.ReadValue(r) is not null) throw new InvalidOperationException("more than one value");
        return n;
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Trim());

    /// <summary>
    /// Python statements that leave the graph in <c>obj</c> with the same sharing: lists, dicts and sets are made
    /// empty first and filled after, so cycles work; strings and bytes are made fresh (<c>S(hex)</c>) so that only
    /// nodes shared in the graph are shared in Python (CPython itself shares "" and one-character strings).
    /// </summary>
    public static string ToPython(Node root)
    {
        var g = new PyGen();
        return g.Build(root);
    }

    sealed class PyGen
    {
        readonly StringBuilder _code = new();
        readonly Dictionary<Node, string> _vars = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<Node, int> _uses = new(ReferenceEqualityComparer.Instance);
        int _next;

        public string Build(Node root)
        {
            _code.Append("import datetime, decimal, uuid\n");
            _code.Append("def S(h): return bytes.fromhex(h).decode('utf-8')\n");
            _code.Append("def B(h): return bytes.fromhex(h)\n");
            var all = new List<Node>();
            var todo = new Stack<Node>();
            todo.Push(root);
            while (todo.Count > 0)
            {
                var n = todo.Pop();
                _uses[n] = _uses.GetValueOrDefault(n) + 1;
                if (_uses[n] > 1) continue;
                all.Add(n);
                if (n.Items is { } items) foreach (var i in items) todo.Push(i);
                if (n.Entries is { } es) foreach (var e in es) { todo.Push(e.Key); todo.Push(e.Value); }
            }
            _uses[root]++;
            foreach (var n in all)
                if (Mutable(n)) { var v = "v" + _next++; _vars[n] = v; _code.Append(v).Append(n.IsMap ? " = {}\n" : n.Tag == "set" ? " = set()\n" : " = []\n"); }
            foreach (var n in all)
            {
                if (!Mutable(n)) continue;
                var v = _vars[n];
                // Child expressions may emit statements of their own, so each line is composed before it is appended.
                if (n.IsMap) foreach (var e in n.Entries!) { var k = Expr(e.Key); var val = Expr(e.Value); Line($"{v}[{k}] = {val}"); }
                else { var items = string.Join(", ", n.Items!.Select(Expr)); Line(n.Tag == "set" ? $"{v}.update([{items}])" : $"{v}.extend([{items}])"); }
            }
            var rootExpr = Expr(root);
            Line("obj = " + rootExpr);
            return _code.ToString();
        }

        void Line(string s) => _code.Append(s).Append('\n');

        static bool Mutable(Node n) => (n.IsList && n.Tag is null or "set") || (n.IsMap && n.Tag is null);

        string Expr(Node n)
        {
            if (_vars.TryGetValue(n, out var v)) return v;
            var e = Make(n);
            if (_uses.GetValueOrDefault(n) > 1 && n.Kind is not (TokenKind.Null or TokenKind.Bool or TokenKind.Int or TokenKind.Float))
            {
                v = "v" + _next++;
                Line(v + " = " + e);
                _vars[n] = v;
                return v;
            }
            return e;
        }

        string Make(Node n) => n.Kind switch
        {
            TokenKind.Null => "None",
            TokenKind.Bool => (bool)n.Value! ? "True" : "False",
            TokenKind.Int => (n.Value is long l ? new BigInteger(l) : (BigInteger)n.Value!).ToString(CultureInfo.InvariantCulture),
            TokenKind.Float => $"float('{PythonFloat((double)n.Value!)}')",
            TokenKind.String => $"S('{Convert.ToHexString(Encoding.UTF8.GetBytes((string)n.Value!))}')",
            TokenKind.Bytes => n.Tag == "bytearray" ? $"bytearray(B('{Convert.ToHexString((byte[])n.Value!)}'))" : $"B('{Convert.ToHexString((byte[])n.Value!)}')",
            TokenKind.Decimal => $"decimal.Decimal('{PythonText.DecimalStr((DecimalNumber)n.Value!)}')",
            TokenKind.Uuid => $"uuid.UUID('{n.Value}')",
            TokenKind.Date => $"datetime.date({((DateOnly)n.Value!).Year}, {((DateOnly)n.Value!).Month}, {((DateOnly)n.Value!).Day})",
            TokenKind.Time => $"datetime.time({((TimeOnly)n.Value!).Hour}, {((TimeOnly)n.Value!).Minute}, {((TimeOnly)n.Value!).Second}, {((TimeOnly)n.Value!).Ticks % TimeSpan.TicksPerSecond / 10})",
            TokenKind.Timestamp => DateTimeExpr((Timestamp)n.Value!),
            TokenKind.StartList when n.Tag == "tuple" => "(" + string.Concat(n.Items!.Select(i => Expr(i) + ", ")) + ")",
            TokenKind.StartList when n.Tag == "frozenset" => "frozenset([" + string.Join(", ", n.Items!.Select(Expr)) + "])",
            _ => throw new NotSupportedException("no Python form for " + n.Kind + " " + n.Tag),
        };

        static string DateTimeExpr(Timestamp t)
        {
            var wall = DateTimeOffset.FromUnixTimeSeconds(t.UnixSeconds).AddMinutes(t.OffsetMinutes ?? 0).UtcDateTime;
            var tz = t.OffsetMinutes switch { null => "", 0 => ", tzinfo=datetime.timezone.utc", { } m => $", tzinfo=datetime.timezone(datetime.timedelta(minutes={m}))" };
            return $"datetime.datetime({wall.Year}, {wall.Month}, {wall.Day}, {wall.Hour}, {wall.Minute}, {wall.Second}, {t.Nanoseconds / 1000}{tz})";
        }

        static string PythonFloat(double d) => double.IsNaN(d) ? "nan" : double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : d.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>Checks that two graphs share containers the same way (expected node ↔ actual node is one to one).</summary>
    public static string? SharingDifference(Node expected, Node actual)
    {
        var map = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var back = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<(Node e, Node a, string path)>();
        todo.Push((expected, actual, "$"));
        while (todo.Count > 0)
        {
            var (e, a, path) = todo.Pop();
            if (e.IsScalar) continue;
            if (map.TryGetValue(e, out var seenA)) { if (!ReferenceEquals(seenA, a)) return $"{path}: expected a shared node, found a copy"; continue; }
            if (back.TryGetValue(a, out var seenE) && !ReferenceEquals(seenE, e)) return $"{path}: two distinct nodes were read as one";
            map[e] = a; back[a] = e;
            if (e.Items is { } items && a.Items is { } aItems) for (int i = 0; i < Math.Min(items.Count, aItems.Count); i++) todo.Push((items[i], aItems[i], $"{path}[{i}]"));
            if (e.Entries is { } es && a.Entries is { } aEs) for (int i = 0; i < Math.Min(es.Count, aEs.Count); i++) todo.Push((es[i].Value, aEs[i].Value, $"{path}.{es[i].Key}"));
        }
        return null;
    }
}
