using System.Globalization;
using System.Numerics;
using Brine.Model;

namespace Brine.Objects;

/// <summary>Turns a scalar token (or scalar node) into a value of the requested CLR type.</summary>
static class ScalarConversion
{
    /// <summary>The natural CLR value of a scalar when the requested type is <see cref="object"/>.</summary>
    public static object? Natural(Node n) => n.Kind switch
    {
        TokenKind.Decimal => ((DecimalNumber)n.Value!).TryToDecimal(out var d) ? d : n.Value,
        TokenKind.Timestamp => NaturalTimestamp((Timestamp)n.Value!),
        TokenKind.Int => n.Value,
        _ => n.Value,
    };

    static object NaturalTimestamp(Timestamp t)
    {
        try
        {
            if (t.OffsetMinutes is null) return DateTime.SpecifyKind(t.ToUtcDateTime(), DateTimeKind.Unspecified);
            return t.ToDateTimeOffset();
        }
        catch (ArgumentOutOfRangeException) { return t; }
    }

    /// <summary>Converts the scalar <paramref name="n"/> to <paramref name="target"/>; throws <see cref="InvalidCastException"/> with a readable message when it cannot.</summary>
    public static object? To(Node n, Type target)
    {
        if (target == typeof(object)) return Natural(n);
        if (target == typeof(Node)) return n;
        var under = Nullable.GetUnderlyingType(target);
        if (n.Kind == TokenKind.Null)
        {
            if (!target.IsValueType || under is not null) return null;
            throw new InvalidCastException($"null cannot be a {target.Name}");
        }
        var t = under ?? target;
        var v = n.Value;
        if (t.IsEnum)
        {
            if (v is string s)
            {
                if (Enum.TryParse(t, s, ignoreCase: false, out var e)) return e;
                throw new InvalidCastException($"'{s}' is not a name of {t.Name}");
            }
            if (v is long l) return Enum.ToObject(t, l);
        }
        switch (n.Kind)
        {
            case TokenKind.Int:
            {
                var big = v is long l ? (BigInteger)l : (BigInteger)v!;
                if (t == typeof(long)) return (long)big;
                if (t == typeof(int)) return (int)big;
                if (t == typeof(short)) return (short)big;
                if (t == typeof(byte)) return (byte)big;
                if (t == typeof(sbyte)) return (sbyte)big;
                if (t == typeof(ushort)) return (ushort)big;
                if (t == typeof(uint)) return (uint)big;
                if (t == typeof(ulong)) return (ulong)big;
                if (t == typeof(BigInteger)) return big;
                if (t == typeof(double)) return (double)big;
                if (t == typeof(float)) return (float)big;
                if (t == typeof(decimal)) return (decimal)big;
                if (t == typeof(DecimalNumber)) return new DecimalNumber(big, 0);
                if (t == typeof(bool)) return !big.IsZero;
                break;
            }
            case TokenKind.Float:
            {
                var d = (double)v!;
                if (t == typeof(double)) return d;
                if (t == typeof(float)) return (float)d;
                if (t == typeof(decimal)) return (decimal)d;
                if (t == typeof(DecimalNumber)) return DecimalNumber.Parse(d.ToString("R", CultureInfo.InvariantCulture));
                break;
            }
            case TokenKind.Decimal:
            {
                var d = (DecimalNumber)v!;
                if (t == typeof(DecimalNumber)) return d;
                if (t == typeof(decimal)) return d.TryToDecimal(out var m) ? m : throw new InvalidCastException($"{d} does not fit a decimal");
                if (t == typeof(double)) return d.ToDouble();
                if (t == typeof(float)) return (float)d.ToDouble();
                break;
            }
            case TokenKind.String:
            {
                var s = (string)v!;
                if (t == typeof(string)) return s;
                if (t == typeof(char) && s.Length == 1) return s[0];
                if (t == typeof(TimeSpan)) return TimeSpan.ParseExact(s, "c", CultureInfo.InvariantCulture);
                if (t == typeof(Guid)) return Guid.Parse(s);
                if (t == typeof(DateTimeOffset) && Timestamp.TryParse(s, out var ts)) return ts.ToDateTimeOffset();
                if (t == typeof(DateTime) && Timestamp.TryParse(s, out var ts2)) return ToDateTime(ts2);
                if (t == typeof(DateOnly)) return DateOnly.Parse(s, CultureInfo.InvariantCulture);
                if (t == typeof(TimeOnly)) return TimeOnly.Parse(s, CultureInfo.InvariantCulture);
                if (t == typeof(decimal)) return decimal.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (t == typeof(BigInteger)) return BigInteger.Parse(s, CultureInfo.InvariantCulture);
                if (t == typeof(byte[])) return Convert.FromBase64String(s);
                break;
            }
            case TokenKind.Bool: if (t == typeof(bool)) return v; break;
            case TokenKind.Bytes:
                if (t == typeof(byte[])) return v;
                if (t == typeof(string)) return Convert.ToBase64String((byte[])v!);
                break;
            case TokenKind.Timestamp:
            {
                var ts = (Timestamp)v!;
                if (t == typeof(DateTimeOffset)) return ts.ToDateTimeOffset();
                if (t == typeof(DateTime)) return ToDateTime(ts);
                if (t == typeof(Timestamp)) return ts;
                break;
            }
            case TokenKind.Date:
                if (t == typeof(DateOnly)) return v;
                if (t == typeof(DateTime)) return ((DateOnly)v!).ToDateTime(TimeOnly.MinValue);
                break;
            case TokenKind.Time:
                if (t == typeof(TimeOnly)) return v;
                if (t == typeof(TimeSpan)) return ((TimeOnly)v!).ToTimeSpan();
                break;
            case TokenKind.Uuid:
                if (t == typeof(Guid)) return v;
                if (t == typeof(string)) return ((Guid)v!).ToString();
                break;
        }
        throw new InvalidCastException($"expected {Describe(t)}, found {Describe(n)}");
    }

    /// <summary>A naive timestamp (no offset) becomes an Unspecified DateTime with the same wall time; others a UTC DateTime.</summary>
    internal static DateTime ToDateTime(Timestamp ts) => ts.OffsetMinutes is null
        ? DateTime.SpecifyKind(ts.ToUtcDateTime(), DateTimeKind.Unspecified)
        : ts.ToUtcDateTime();

    public static string Describe(Type t) => t.IsEnum ? $"a name of {t.Name}" : t == typeof(string) ? "a string" : $"a {t.Name}";

    public static string Describe(Node n) => n.Kind switch
    {
        TokenKind.String => $"the string \"{Shorten((string)n.Value!)}\"",
        TokenKind.Null => "null",
        TokenKind.StartList => "a list",
        TokenKind.StartMap => "a map",
        _ => $"{n.Kind.ToString().ToLowerInvariant()} {n}",
    };

    static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
