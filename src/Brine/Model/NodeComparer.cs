namespace Brine.Model;

/// <summary>
/// Structural equality of two graphs: same shape, same scalars, same sharing pattern is not required
/// (a shared node equals its expanded copies). Cycles are handled by assuming pairs under comparison are equal.
/// </summary>
public static class NodeComparer
{
    public sealed class Options
    {
        public bool CompareTags { get; init; } = true;
        /// <summary>Treat 1 and 1.0 (Int and Float), and decimals of equal value, as equal.</summary>
        public bool NumbersByValue { get; init; }
    }

    /// <summary>Returns null when equal, else a path and reason such as <c>$.days[1].name: "a" != "b"</c>.</summary>
    public static string? Difference(Node a, Node b, Options? options = null)
    {
        options ??= new Options();
        var assumed = new HashSet<(Node, Node)>(new PairComparer());
        // Paths are built only when a difference is found: each entry points to its parent step.
        var steps = new List<(int parent, string step)> { (-1, "$") };
        string PathOf(int i)
        {
            var parts = new List<string>();
            for (; i >= 0; i = steps[i].parent) parts.Add(steps[i].step);
            parts.Reverse();
            return string.Concat(parts);
        }
        var todo = new Stack<(Node a, Node b, int step)>();
        todo.Push((a, b, 0));
        while (todo.Count > 0)
        {
            var (x, y, step) = todo.Pop();
            if (ReferenceEquals(x, y)) continue;
            if (!assumed.Add((x, y))) continue;
            if (options.CompareTags && x.Tag != y.Tag) return $"{PathOf(step)}: tag {x.Tag ?? "(none)"} != {y.Tag ?? "(none)"}";
            if (x.Kind != y.Kind)
            {
                if (options.NumbersByValue && IsNumber(x) && IsNumber(y) && NumberEquals(x, y)) continue;
                return $"{PathOf(step)}: {x.Kind} {x} != {y.Kind} {y}";
            }
            if (x.IsList)
            {
                if (x.Items!.Count != y.Items!.Count) return $"{PathOf(step)}: {x.Items.Count} items != {y.Items.Count}";
                for (int i = 0; i < x.Items.Count; i++) { steps.Add((step, $"[{i}]")); todo.Push((x.Items[i], y.Items[i], steps.Count - 1)); }
            }
            else if (x.IsMap)
            {
                if (x.Entries!.Count != y.Entries!.Count) return $"{PathOf(step)}: {x.Entries.Count} entries != {y.Entries.Count}";
                for (int i = 0; i < x.Entries.Count; i++)
                {
                    var kx = x.Entries[i].Key; var ky = y.Entries[i].Key;
                    if (!ScalarEquals(kx, ky, options)) return $"{PathOf(step)}: key {kx} != {ky} (entry {i})";
                    steps.Add((step, "." + kx));
                    todo.Push((x.Entries[i].Value, y.Entries[i].Value, steps.Count - 1));
                }
            }
            else if (!ScalarEquals(x, y, options)) return $"{PathOf(step)}: {Show(x)} != {Show(y)}";
        }
        return null;
    }

    public static bool DeepEquals(Node a, Node b, Options? options = null) => Difference(a, b, options) is null;

    static bool IsNumber(Node n) => n.Kind is TokenKind.Int or TokenKind.Float or TokenKind.Decimal;

    static bool NumberEquals(Node x, Node y)
    {
        static DecimalNumber? AsDec(Node n) => n.Value switch
        {
            long l => new DecimalNumber(l, 0),
            System.Numerics.BigInteger b => new DecimalNumber(b, 0),
            DecimalNumber d => d,
            double f when double.IsFinite(f) => DecimalNumber.TryParse(f.ToString("R", System.Globalization.CultureInfo.InvariantCulture), out var d) ? d : null,
            _ => null,
        };
        var a = AsDec(x); var b = AsDec(y);
        return a is not null && b is not null && a.Value.ValueEquals(b.Value);
    }

    static bool ScalarEquals(Node x, Node y, Options o)
    {
        if (x.Kind != y.Kind) return o.NumbersByValue && IsNumber(x) && IsNumber(y) && NumberEquals(x, y);
        return x.Value switch
        {
            null => y.Value is null,
            byte[] bx => y.Value is byte[] by && bx.AsSpan().SequenceEqual(by),
            double dx => y.Value is double dy && (BitConverter.DoubleToInt64Bits(dx) == BitConverter.DoubleToInt64Bits(dy) || (double.IsNaN(dx) && double.IsNaN(dy))),
            DecimalNumber dx => y.Value is DecimalNumber dy && (o.NumbersByValue ? dx.ValueEquals(dy) : dx.Equals(dy)),
            _ => x.Value.Equals(y.Value),
        };
    }

    static string Show(Node n) => n.Value switch
    {
        string s => "\"" + s + "\"",
        byte[] b => "bytes[" + b.Length + "]",
        _ => n.Kind + " " + n,
    };

    sealed class PairComparer : IEqualityComparer<(Node, Node)>
    {
        public bool Equals((Node, Node) a, (Node, Node) b) => ReferenceEquals(a.Item1, b.Item1) && ReferenceEquals(a.Item2, b.Item2);
        public int GetHashCode((Node, Node) p) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.Item1), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.Item2));
    }
}
