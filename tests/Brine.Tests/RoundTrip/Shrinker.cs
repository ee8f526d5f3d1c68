using Brine.Model;

namespace Brine.Tests.RoundTrip;

/// <summary>
/// Makes a failing input smaller by simple steps, keeping each step that still fails: keep one value of several, put a
/// nested value in place of the whole, drop one item or entry, drop a tag. Sharing and cycles are kept by copying the
/// graph with a memo before each edit.
/// </summary>
public static class Shrinker
{
    public static IReadOnlyList<Node> Shrink(IReadOnlyList<Node> roots, Func<IReadOnlyList<Node>, bool> fails, int budget = 2000)
    {
        var current = roots;
        bool progress = true;
        while (progress && budget > 0)
        {
            progress = false;
            foreach (var candidate in Candidates(current))
            {
                if (--budget < 0) break;
                bool f;
                try { f = fails(candidate); } catch { f = true; }
                if (f) { current = candidate; progress = true; break; }
            }
        }
        return current;
    }

    static IEnumerable<IReadOnlyList<Node>> Candidates(IReadOnlyList<Node> roots)
    {
        if (roots.Count > 1)
            foreach (var r in roots) yield return new[] { r };
        // A nested value in place of its whole top-level value.
        for (int i = 0; i < roots.Count; i++)
            foreach (var sub in FormatProfile.Walk(new[] { roots[i] }).Skip(1).OrderBy(Size).ToList())
            {
                var copy = Copy(roots, out _);
                copy[i] = Copy(new[] { sub }, out _)[0];
                yield return copy;
            }
        // Drop one item or entry, then drop a tag.
        int containers = FormatProfile.Walk(roots).Count(n => !n.IsScalar);
        for (int c = 0; c < containers; c++)
        {
            Copy(roots, out var order);
            int count = order[c].Items?.Count ?? order[c].Entries!.Count;
            for (int j = 0; j < count; j++)
            {
                var copy = Copy(roots, out var o);
                if (o[c].IsList) o[c].Items!.RemoveAt(j); else o[c].Entries!.RemoveAt(j);
                yield return copy;
            }
        }
        var tagged = FormatProfile.Walk(roots).Select((n, i) => (n, i)).Where(p => p.n.Tag is not null).Select(p => p.i).ToList();
        foreach (var t in tagged)
        {
            var copy = Copy(roots, out _);
            var node = FormatProfile.Walk(copy).ElementAt(t);
            node.Tag = null;
            yield return copy;
        }
    }

    /// <summary>A failure message without its place and numbers, to tell one kind of failure from another.</summary>
    public static string Category(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Replace(message, @"^value \d+: ", "");
        if (m.StartsWith('$') && m.IndexOf(": ", StringComparison.Ordinal) is var i and > 0) m = m[(i + 2)..];
        m = System.Text.RegularExpressions.Regex.Replace(m, @"at \$[^:]*: ", "");
        return System.Text.RegularExpressions.Regex.Replace(m, @"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "#");
    }

    static int Size(Node n) => FormatProfile.Walk(new[] { n }).Count();

    /// <summary>A copy of the graphs with the same sharing; <paramref name="containers"/> lists the copied containers in walk order.</summary>
    public static Node[] Copy(IReadOnlyList<Node> roots, out List<Node> containers)
    {
        var memo = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<(Node from, Node to)>();
        Node Make(Node n)
        {
            if (memo.TryGetValue(n, out var done)) return done;
            var c = n.IsScalar ? FormatProfile.Clone(n) : n.IsList ? Node.List(n.Tag) : Node.Map(n.Tag);
            memo[n] = c;
            if (!n.IsScalar) todo.Push((n, c));
            return c;
        }
        var result = roots.Select(Make).ToArray();
        while (todo.Count > 0)
        {
            var (from, to) = todo.Pop();
            if (from.IsList) foreach (var i in from.Items!) to.Add(Make(i));
            else foreach (var e in from.Entries!) to.Add(Make(e.Key), Make(e.Value));
        }
        containers = FormatProfile.Walk(roots).Where(n => !n.IsScalar).Select(n => memo[n]).ToList();
        return result;
    }
}
