using System.Globalization;
using System.Numerics;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;

namespace Brine.Tabular.Filtering;

/// <summary>
/// Compares row values (the boxed forms of <see cref="ArrowCells"/> and <see cref="Node"/> scalars) with filter
/// literals. Numbers compare by value, strings by their UTF-8 bytes (the order Parquet statistics use),
/// timestamps and dates as instants (a zone-less value is taken as UTC); a string value compared with a
/// timestamp literal is read as an ISO timestamp. Values that cannot be compared give "unknown" (no match).
/// </summary>
public static class FilterValues
{
    public static bool TryParseInstant(string s, out Timestamp t)
    {
        if (Timestamp.TryParse(s, out t)) return true;
        if (DateOnly.TryParseExact(s.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            t = new Timestamp((long)(d.DayNumber - EpochDay) * 86400, 0, null);
            return true;
        }
        return false;
    }

    static readonly int EpochDay = new DateOnly(1970, 1, 1).DayNumber;

    public static Int128 Nanos(Timestamp t) => (Int128)t.UnixSeconds * 1_000_000_000 + t.Nanoseconds;
    public static Int128 Nanos(DateOnly d) => (Int128)(d.DayNumber - EpochDay) * 86_400_000_000_000L;

    static Int128? AsInstant(object v) => v switch
    {
        Timestamp t => Nanos(t),
        TimestampLiteral l => Nanos(l.Value),
        DateOnly d => Nanos(d),
        string s when TryParseInstant(s, out var t) => Nanos(t),
        _ => null,
    };

    static bool IsNumber(object v) => v is long or double or BigInteger or DecimalNumber or int;

    static double ToDouble(object v) => v switch
    {
        long l => l,
        int i => i,
        double d => d,
        BigInteger b => (double)b,
        DecimalNumber n => n.ToDouble(),
        _ => double.NaN,
    };

    /// <summary>Sign of value − literal, or null when they cannot be compared (or a float is NaN).</summary>
    public static int? Compare(object? value, object literal)
    {
        if (value is null) return null;
        if (value is long a && literal is long b) return a.CompareTo(b);
        if (IsNumber(value) && IsNumber(literal))
        {
            double x = ToDouble(value), y = ToDouble(literal);
            if (double.IsNaN(x) || double.IsNaN(y)) return null;
            return x.CompareTo(y);
        }
        if (literal is TimestampLiteral || value is Timestamp or DateOnly)
        {
            var x = AsInstant(value); var y = AsInstant(literal);
            return x is null || y is null ? null : x.Value.CompareTo(y.Value);
        }
        if (value is string s && literal is string ls) return Utf8Compare(s, ls);
        if (value is byte[] bytes && literal is string lb) return bytes.AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(lb));
        if (value is bool v1 && literal is bool v2) return v1.CompareTo(v2);
        if (value is Guid g && literal is string gs && Guid.TryParse(gs, out var lg)) return g.CompareTo(lg);
        return null;
    }

    /// <summary>Ordinal comparison in UTF-8 byte order (differs from UTF-16 order only around surrogates).</summary>
    public static int Utf8Compare(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF, which sort after U+E000–U+FFFF in UTF-8.
            bool sx = char.IsSurrogate(x), sy = char.IsSurrogate(y);
            if (sx != sy) return sx ? 1 : -1;
            return x.CompareTo(y);
        }
        return a.Length.CompareTo(b.Length);
    }

    public static bool Holds(CompareOp op, int c) => op switch
    {
        CompareOp.Eq => c == 0,
        CompareOp.Ne => c != 0,
        CompareOp.Lt => c < 0,
        CompareOp.Le => c <= 0,
        CompareOp.Gt => c > 0,
        _ => c >= 0,
    };
}

/// <summary>Three-valued results: 0 false, 1 true, 2 unknown (a null was involved).</summary>
static class Truth
{
    public const byte False = 0, True = 1, Unknown = 2;
    public static byte Of(int? c, CompareOp op) => c is { } v ? (FilterValues.Holds(op, v) ? True : False) : Unknown;
    public static byte And(byte a, byte b) => a == False || b == False ? False : a == True && b == True ? True : Unknown;
    public static byte Or(byte a, byte b) => a == True || b == True ? True : a == False && b == False ? False : Unknown;
    public static byte Not(byte a) => a == Unknown ? Unknown : (byte)(1 - a);
}

/// <summary>A filter checked against a table schema: columns exist, literals converted to the columns' types.</summary>
public sealed class BoundFilter
{
    public FilterExpression Expression { get; }
    public Schema Schema { get; }

    BoundFilter(FilterExpression e, Schema s) { Expression = e; Schema = s; }

    public static BoundFilter Bind(string where, Schema schema) => Bind(FilterExpression.Parse(where), schema);

    public static BoundFilter Bind(FilterExpression e, Schema schema)
    {
        return new BoundFilter(Rewrite(e, schema), schema);

        static FilterExpression Rewrite(FilterExpression e, Schema schema) => e switch
        {
            Comparison c => c with { Literal = Convert(c.Column, c.Literal, schema) },
            InList i => i with { Literals = i.Literals.Select(l => Convert(i.Column, l, schema)).ToList() },
            NullTest n => Check(n, n.Column, schema),
            And a => new And(Rewrite(a.Left, schema), Rewrite(a.Right, schema)),
            Or o => new Or(Rewrite(o.Left, schema), Rewrite(o.Right, schema)),
            Not n => new Not(Rewrite(n.Inner, schema)),
            _ => e,
        };
    }

    static FilterExpression Check(FilterExpression e, string column, Schema schema) { FieldOf(column, schema); return e; }

    public static Field FieldOf(string column, Schema schema)
    {
        var f = schema.FieldsList.FirstOrDefault(f => f.Name == column)
            ?? schema.FieldsList.FirstOrDefault(f => string.Equals(f.Name, column, StringComparison.OrdinalIgnoreCase));
        return f ?? throw new BrineUsageException($"--where: unknown column '{column}'; the columns are: {string.Join(", ", schema.FieldsList.Select(x => x.Name))}");
    }

    static object Convert(string column, object literal, Schema schema)
    {
        var field = FieldOf(column, schema);
        var type = field.DataType is DictionaryType d ? d.ValueType : field.DataType;
        string Wrong(string what) => $"--where: column '{field.Name}' holds {what}; {Show(literal)} cannot be compared with it";
        switch (type)
        {
            case TimestampType or Date32Type or Date64Type:
                if (literal is TimestampLiteral) return literal;
                if (literal is string s && FilterValues.TryParseInstant(s, out var t)) return new TimestampLiteral(t);
                throw new BrineUsageException(Wrong("timestamps") + " (write TIMESTAMP '2024-01-01T00:00:00Z' or an ISO string)");
            case StringType or LargeStringType or StringViewType or BinaryType or LargeBinaryType:
                if (literal is string) return literal;
                throw new BrineUsageException(Wrong("text") + " (quote the value: 'text')");
            case BooleanType:
                if (literal is bool) return literal;
                throw new BrineUsageException(Wrong("booleans") + " (write TRUE or FALSE)");
            case FixedSizeBinaryType when ArrowCells.IsUuid(field):
                if (literal is string u && Guid.TryParse(u, out _)) return literal;
                throw new BrineUsageException(Wrong("UUIDs") + " (quote the UUID)");
            case Int8Type or Int16Type or Int32Type or Int64Type or UInt8Type or UInt16Type or UInt32Type or UInt64Type
                or FloatType or DoubleType or HalfFloatType or Decimal128Type or Decimal256Type:
                if (literal is long or double) return literal;
                throw new BrineUsageException(Wrong("numbers"));
            case NestedType:
                throw new BrineUsageException($"--where: column '{field.Name}' is nested ({type.Name}); filters compare plain columns only");
            default:
                return literal;
        }
    }

    static string Show(object literal) => literal is string s ? $"'{s}'" : literal.ToString()!;

    /// <summary>Evaluates one row given by a column lookup (missing → null). True only when the filter is true.</summary>
    public static bool Matches(FilterExpression e, Func<string, object?> column) => Eval(e, column) == Truth.True;

    static byte Eval(FilterExpression e, Func<string, object?> column) => e switch
    {
        Comparison c => Truth.Of(FilterValues.Compare(column(c.Column), c.Literal), c.Op),
        InList i => EvalIn(i, column(i.Column)),
        NullTest n => (column(n.Column) is null) != n.Negated ? Truth.True : Truth.False,
        And a => Eval(a.Left, column) is var l && l == Truth.False ? Truth.False : Truth.And(l, Eval(a.Right, column)),
        Or o => Eval(o.Left, column) is var l && l == Truth.True ? Truth.True : Truth.Or(l, Eval(o.Right, column)),
        Not n => Truth.Not(Eval(n.Inner, column)),
        _ => Truth.Unknown,
    };

    static byte EvalIn(InList i, object? value)
    {
        if (value is null) return Truth.Unknown;
        byte result = Truth.False;
        foreach (var lit in i.Literals)
        {
            var t = Truth.Of(FilterValues.Compare(value, lit), CompareOp.Eq);
            result = Truth.Or(result, t);
            if (result == Truth.True) break;
        }
        return i.Negated ? Truth.Not(result) : result;
    }

    /// <summary>The rows of <paramref name="batch"/> (whose schema holds the filter's columns) for which the filter is true.</summary>
    public bool[] Select(RecordBatch batch)
    {
        var t = EvalBatch(Expression, batch);
        var mask = new bool[batch.Length];
        for (int i = 0; i < mask.Length; i++) mask[i] = t[i] == Truth.True;
        return mask;
    }

    /// <summary>The indices of the rows of <paramref name="batch"/> for which the filter is true, ascending.</summary>
    public int[] SelectRows(RecordBatch batch)
    {
        var t = EvalBatch(Expression, batch);
        // Without branches: which rows match is as unpredictable as the data.
        var rows = new int[t.Length + 1];
        int kept = 0;
        for (int i = 0; i < t.Length; i++)
        {
            rows[kept] = i;
            kept += t[i] == Truth.True ? 1 : 0;
        }
        return rows.AsSpan(0, kept).ToArray();
    }

    static byte[] EvalBatch(FilterExpression e, RecordBatch batch)
    {
        int n = batch.Length;
        switch (e)
        {
            case Comparison c: { var (ca, cf) = Column(batch, c.Column); return CompareColumn(ca, cf, c.Op, c.Literal); }
            case InList i:
                {
                    var (a, f) = Column(batch, i.Column);
                    var r = new byte[n];
                    for (int k = 0; k < i.Literals.Count; k++)
                    {
                        var t = CompareColumn(a, f, CompareOp.Eq, i.Literals[k]);
                        for (int j = 0; j < n; j++) r[j] = k == 0 ? t[j] : Truth.Or(r[j], t[j]);
                    }
                    if (i.Literals.Count == 0) System.Array.Fill(r, Truth.False);
                    if (i.Negated) for (int j = 0; j < n; j++) r[j] = Truth.Not(r[j]);
                    for (int j = 0; j < n; j++) if (a.IsNull(j)) r[j] = Truth.Unknown;
                    return r;
                }
            case NullTest nt:
                {
                    var (a, _) = Column(batch, nt.Column);
                    var r = new byte[n];
                    for (int j = 0; j < n; j++) r[j] = a.IsNull(j) != nt.Negated ? Truth.True : Truth.False;
                    return r;
                }
            case And and:
                {
                    var l = EvalBatch(and.Left, batch); var r = EvalBatch(and.Right, batch);
                    for (int j = 0; j < n; j++) l[j] = Truth.And(l[j], r[j]);
                    return l;
                }
            case Or or:
                {
                    var l = EvalBatch(or.Left, batch); var r = EvalBatch(or.Right, batch);
                    for (int j = 0; j < n; j++) l[j] = Truth.Or(l[j], r[j]);
                    return l;
                }
            case Not not:
                {
                    var r = EvalBatch(not.Inner, batch);
                    for (int j = 0; j < n; j++) r[j] = Truth.Not(r[j]);
                    return r;
                }
            default: throw new InvalidOperationException("unknown filter node " + e.GetType().Name);
        }
    }

    static (IArrowArray, Field) Column(RecordBatch batch, string name)
    {
        var f = FieldOf(name, batch.Schema);
        return (batch.Column(batch.Schema.GetFieldIndex(f.Name)), f);
    }

    /// <summary>Vectorised comparison with fast paths for the common column types; other types go through boxed values.</summary>
    static byte[] CompareColumn(IArrowArray array, Field field, CompareOp op, object literal)
    {
        int n = array.Length;
        var r = new byte[n];
        switch (array)
        {
            case Int64Array a when literal is long l:
                {
                    var v = a.Values;
                    for (int i = 0; i < n; i++) r[i] = a.IsNull(i) ? Truth.Unknown : FilterValues.Holds(op, v[i].CompareTo(l)) ? Truth.True : Truth.False;
                    return r;
                }
            case Int32Array a when literal is long l:
                {
                    var v = a.Values;
                    for (int i = 0; i < n; i++) r[i] = a.IsNull(i) ? Truth.Unknown : FilterValues.Holds(op, ((long)v[i]).CompareTo(l)) ? Truth.True : Truth.False;
                    return r;
                }
            case DoubleArray a when literal is long or double:
                {
                    var v = a.Values; double d = literal is long l ? l : (double)literal;
                    for (int i = 0; i < n; i++)
                        r[i] = a.IsNull(i) || double.IsNaN(v[i]) || double.IsNaN(d) ? Truth.Unknown : FilterValues.Holds(op, v[i].CompareTo(d)) ? Truth.True : Truth.False;
                    return r;
                }
            case StringArray a when literal is string s:
                {
                    // Offsets and bytes read directly: GetBytes and IsNull per row cost more than the comparison.
                    ReadOnlySpan<byte> lit = Encoding.UTF8.GetBytes(s);
                    var offsets = a.ValueOffsets;
                    var bytes = a.ValueBuffer.Span;
                    bool nulls = a.NullCount > 0;
                    if (op is CompareOp.Eq or CompareOp.Ne)
                    {
                        byte hit = op == CompareOp.Eq ? Truth.True : Truth.False, miss = (byte)(1 - hit);
                        for (int i = 0; i < n; i++)
                        {
                            int start = offsets[i], length = offsets[i + 1] - start;
                            r[i] = nulls && a.IsNull(i) ? Truth.Unknown
                                : length == lit.Length && bytes.Slice(start, length).SequenceEqual(lit) ? hit : miss;
                        }
                        return r;
                    }
                    for (int i = 0; i < n; i++)
                        r[i] = nulls && a.IsNull(i) ? Truth.Unknown
                            : FilterValues.Holds(op, bytes[offsets[i]..offsets[i + 1]].SequenceCompareTo(lit)) ? Truth.True : Truth.False;
                    return r;
                }
            case TimestampArray a when literal is TimestampLiteral t:
                {
                    var v = a.Values; var unit = ((TimestampType)a.Data.DataType).Unit;
                    long factor = unit switch { TimeUnit.Second => 1_000_000_000, TimeUnit.Millisecond => 1_000_000, TimeUnit.Microsecond => 1000, _ => 1 };
                    var lit = FilterValues.Nanos(t.Value);
                    for (int i = 0; i < n; i++)
                        r[i] = a.IsNull(i) ? Truth.Unknown : FilterValues.Holds(op, ((Int128)v[i] * factor).CompareTo(lit)) ? Truth.True : Truth.False;
                    return r;
                }
            case DictionaryArray a:
                {
                    // Compare each distinct value once, then map the indices.
                    var dictField = new Field(field.Name, ((DictionaryType)a.Data.DataType).ValueType, true);
                    var onDict = CompareColumn(a.Dictionary, dictField, op, literal);
                    for (int i = 0; i < n; i++) r[i] = a.IsNull(i) ? Truth.Unknown : onDict[ArrowCells.DictionaryIndex(a, i)];
                    return r;
                }
            default:
                {
                    bool uuid = ArrowCells.IsUuid(field);
                    for (int i = 0; i < n; i++) r[i] = Truth.Of(FilterValues.Compare(ArrowCells.Get(array, i, uuid), literal), op);
                    return r;
                }
        }
    }
}
