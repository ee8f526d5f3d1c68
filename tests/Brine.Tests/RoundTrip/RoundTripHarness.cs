using System.Text;
using Brine.Formats;
using Brine.Model;

namespace Brine.Tests.RoundTrip;

/// <summary>Writes graphs with a format, reads them back, and checks the result against the profile's expectation.</summary>
public static class RoundTripHarness
{
    /// <summary>Writes the values as the converter would (shared nodes expanded unless the format keeps them) and returns the bytes.</summary>
    public static byte[] Write(FormatProfile p, IReadOnlyList<Node> roots)
    {
        var ms = new MemoryStream();
        var options = new WriteOptions { KeepReferences = p.KeepReferences };
        using (var w = p.Format.CreateWriter(ms, options))
        {
            using var r = new NodeReader(roots, expand: !p.PassesReferences);
            TokenPump.Copy(r, w, new PumpOptions { PassReferences = true });
            w.Finish();
        }
        return ms.ToArray();
    }

    public static List<Node> Read(Format f, byte[] data)
    {
        using var r = f.CreateReader(new MemoryStream(data, writable: false), ReadOptions.Default);
        return NodeBuilder.ReadAll(r);
    }

    /// <summary>
    /// The property for one input: the format either refuses it with a <see cref="BrineFormatException"/> (when the
    /// profile says it must) or gives back exactly the expected values. Returns null when it holds, else what went wrong.
    /// </summary>
    public static string? Check(FormatProfile p, IReadOnlyList<Node> roots)
    {
        var refusal = p.Refusal(roots);
        byte[] data;
        List<Node> back;
        try
        {
            data = Write(p, roots);
            back = Read(p.Format, data);
        }
        catch (BrineFormatException e)
        {
            return refusal is not null ? null : "refused unexpectedly: " + e.Message;
        }
        catch (Exception e)
        {
            return $"crashed with {e.GetType().Name} (a bad input must give a BrineFormatException): {e.Message}";
        }
        if (refusal is not null) return $"accepted what it should refuse ({refusal})";
        var expected = p.Expect(roots);
        return GraphCheck.Difference(expected, back, p);
    }
}

/// <summary>
/// Equality the property needs beyond <see cref="NodeComparer"/>: the sign of zero and the sharing of containers.
/// NodeComparer treats -0.0 and 0.0 as equal (double.Equals) and ignores sharing on purpose.
/// </summary>
public static class GraphCheck
{
    public static string? Difference(IReadOnlyList<Node> expected, IReadOnlyList<Node> actual, FormatProfile? p = null)
    {
        if (expected.Count != actual.Count) return $"{actual.Count} values read back, {expected.Count} expected";
        for (int i = 0; i < expected.Count; i++)
        {
            var where = expected.Count > 1 ? $"value {i}: " : "";
            if (NodeComparer.Difference(expected[i], actual[i]) is { } d) return where + d;
            if (Strict(expected[i], actual[i]) is { } s) return where + s;
        }
        return null;
    }

    /// <summary>Walks both graphs in step: zero signs must match, and a container met again must be met again on the other side too.</summary>
    static string? Strict(Node expected, Node actual)
    {
        var forward = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var backward = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<(Node e, Node a, string path)>();
        todo.Push((expected, actual, "$"));
        while (todo.Count > 0)
        {
            var (e, a, path) = todo.Pop();
            if (e.Value is double x && a.Value is double y && !double.IsNaN(x) && BitConverter.DoubleToInt64Bits(x) != BitConverter.DoubleToInt64Bits(y))
                return $"{path}: float {x:R} came back as {y:R} (sign of zero)";
            if (e.IsScalar) continue;
            bool seenE = forward.TryGetValue(e, out var mappedA);
            bool seenA = backward.TryGetValue(a, out var mappedE);
            if (seenE || seenA)
            {
                if (!ReferenceEquals(mappedA, a) || !ReferenceEquals(mappedE, e))
                    return seenE ? $"{path}: a shared {Kind(e)} came back as separate copies" : $"{path}: two separate {Kind(e)}s came back as one shared node";
                continue;
            }
            forward[e] = a; backward[a] = e;
            if (e.IsList) for (int i = 0; i < e.Items!.Count; i++) todo.Push((e.Items[i], a.Items![i], $"{path}[{i}]"));
            else for (int i = 0; i < e.Entries!.Count; i++) todo.Push((e.Entries[i].Value, a.Entries![i].Value, $"{path}.{e.Entries[i].Key}"));
        }
        return null;
    }

    static string Kind(Node n) => n.IsList ? "list" : "map";

    /// <summary>A short readable rendering of a graph for failure messages (shared nodes as &amp;n / *n).</summary>
    public static string Show(IReadOnlyList<Node> roots, int max = 4000)
    {
        var sb = new StringBuilder();
        var counts = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (var root in roots) Count(root, counts);
        var names = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (var root in roots) { Render(root, sb, counts, names, max); sb.Append('\n'); }
        return sb.Length > max ? sb.ToString(0, max) + "…" : sb.ToString();
    }

    static void Count(Node root, Dictionary<Node, int> counts)
    {
        var todo = new Stack<Node>();
        todo.Push(root);
        while (todo.Count > 0)
        {
            var n = todo.Pop();
            counts[n] = counts.GetValueOrDefault(n) + 1;
            if (counts[n] > 1) continue;
            if (n.Items is { } items) foreach (var i in items) todo.Push(i);
            else if (n.Entries is { } es) foreach (var e in es) todo.Push(e.Value);
        }
    }

    static void Render(Node n, StringBuilder sb, Dictionary<Node, int> counts, Dictionary<Node, int> names, int max)
    {
        if (sb.Length > max) return;
        if (names.TryGetValue(n, out var id)) { sb.Append('*').Append(id); return; }
        if (counts.GetValueOrDefault(n) > 1) { names[n] = names.Count + 1; sb.Append('&').Append(names[n]).Append(' '); }
        if (n.Tag is not null) sb.Append('!').Append(n.Tag).Append(' ');
        if (n.IsList)
        {
            sb.Append('[');
            for (int i = 0; i < n.Items!.Count; i++) { if (i > 0) sb.Append(", "); Render(n.Items[i], sb, counts, names, max); }
            sb.Append(']');
        }
        else if (n.IsMap)
        {
            sb.Append('{');
            for (int i = 0; i < n.Entries!.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(ScalarText(n.Entries[i].Key)).Append(": ");
                Render(n.Entries[i].Value, sb, counts, names, max);
            }
            sb.Append('}');
        }
        else sb.Append(ScalarText(n));
    }

    static string ScalarText(Node n)
    {
        var text = n.Value switch
        {
            null => "null",
            string s => "\"" + Escape(s.Length > 40 ? s[..40] + "…(" + s.Length + " chars)" : s) + "\"",
            byte[] b => "bytes[" + b.Length + "]",
            double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f",
            DecimalNumber m => m + "m",
            _ => n.Value.ToString(),
        };
        return n.Kind is TokenKind.Timestamp or TokenKind.Date or TokenKind.Time or TokenKind.Uuid ? n.Kind + "(" + text + ")" : text;
    }

    static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s) sb.Append(c < 0x20 || c == 0x7f ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }
}
