using Brine.Model;

namespace Brine.Tests.RoundTrip;

/// <summary>
/// Format bugs the round-trip properties found and that are reported, not yet fixed. A seed that fails in exactly the
/// way an entry names (its input has the shape, its message the text) is counted and printed instead of failing the
/// property; any other failure fails it. Remove an entry once its format is fixed.
/// </summary>
public sealed record KnownIssue(string Name, string[] Formats, string MessageContains, Func<IReadOnlyList<Node>, bool> Affects, string Cell)
{
    public bool Explains(FormatProfile p, IReadOnlyList<Node> roots, string failure) =>
        Formats.Contains(p.Format.Name) && failure.Contains(MessageContains, StringComparison.Ordinal) && Affects(roots);

    public static readonly KnownIssue[] All =
    {
    };

    static long WallSeconds(Timestamp t) => t.UnixSeconds + (t.OffsetMinutes ?? 0) * 60L;

    /// <summary>A map whose first element child would be a run of list items (only attribute entries before it).</summary>
    static bool ListFirstInMap(Node n)
    {
        if (!n.IsMap) return false;
        foreach (var e in n.Entries!)
        {
            if (e.Value.IsList) return true;
            bool attribute = e.Key.Value is string k && k.Length > 1 && k[0] == '@' && e.Value.Kind == TokenKind.String;
            if (!attribute) return false;
        }
        return false;
    }

    public static KnownIssue? Find(FormatProfile p, IReadOnlyList<Node> roots, string failure) =>
        All.FirstOrDefault(k => k.Explains(p, roots, failure));
}
