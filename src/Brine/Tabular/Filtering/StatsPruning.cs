namespace Brine.Tabular.Filtering;

/// <summary>
/// What a chunk of rows (a Parquet row group) records about one column: min and max (boxed as row values;
/// strings as their UTF-8 bytes, since statistics may be truncated and need not be valid UTF-8), the number of
/// nulls and of rows. Null min/max means unknown.
/// </summary>
public sealed record ColumnStatistics(object? Min, object? Max, long NullCount, long Rows, bool IsFloat = false);

/// <summary>
/// Decides from statistics whether a chunk of rows might hold a row that matches a bound filter. It must be
/// conservative: "false" only when no row can match; anything unknown answers "might".
/// </summary>
public static class StatsPruning
{
    public static bool MightMatch(FilterExpression e, Func<string, ColumnStatistics?> stats) => e switch
    {
        Comparison c => MightCompare(stats(c.Column), c.Op, c.Literal),
        InList { Negated: false } i => i.Literals.Any(l => MightCompare(stats(i.Column), CompareOp.Eq, l)),
        InList => AllNull(stats(((InList)e).Column)) is not true,
        NullTest { Negated: true } n => AllNull(stats(n.Column)) is not true,
        // Whether a null count of 0 was written or is just unset cannot be told apart here: never skip on IS NULL.
        NullTest => true,
        And a => MightMatch(a.Left, stats) && MightMatch(a.Right, stats),
        Or o => MightMatch(o.Left, stats) || MightMatch(o.Right, stats),
        // NOT would need the opposite bound ("all rows match"); skipping nothing is always safe.
        Not => true,
        _ => true,
    };

    static bool? AllNull(ColumnStatistics? s) => s is null ? null : s.Rows > 0 && s.NullCount == s.Rows;

    static bool MightCompare(ColumnStatistics? s, CompareOp op, object literal)
    {
        if (s is null) return true;
        if (AllNull(s) == true) return false; // a null never matches a comparison
        if (s.Min is null || s.Max is null) return true;
        var lo = FilterValues.Compare(s.Min, literal);
        var hi = FilterValues.Compare(s.Max, literal);
        if (lo is null || hi is null) return true;
        return op switch
        {
            CompareOp.Eq => lo <= 0 && hi >= 0,
            CompareOp.Lt => lo < 0,
            CompareOp.Le => lo <= 0,
            CompareOp.Gt => hi > 0,
            CompareOp.Ge => hi >= 0,
            // Every value equals the literal only when min = max = literal (floats may hide NaNs, which are unequal).
            CompareOp.Ne => s.IsFloat || !(lo == 0 && hi == 0),
            _ => true,
        };
    }
}
