using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using Brine.Model;

namespace Brine.Formats.Yaml;

/// <summary>
/// Plain-scalar resolution for the two YAML schemas Brine reads: the YAML 1.2 core schema (the default) and
/// the YAML 1.1 types that PyYAML resolves (<c>yes</c>/<c>on</c>, <c>0777</c> octal, <c>1_000</c>, sexagesimal
/// <c>1:30</c>, timestamps), used when a document says <c>%YAML 1.1</c>. The writer asks both schemas, so a
/// string it writes plain reads back as a string whichever schema the reader applies.
/// </summary>
public static partial class YamlScalars
{
    public const string CoreTagPrefix = "tag:yaml.org,2002:";

    // YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1023-core-schema).
    [GeneratedRegex(@"^[-+]?[0-9]+$")] private static partial Regex Int12();
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")] private static partial Regex Float12();

    // YAML 1.1 types as PyYAML's resolver spells them.
    [GeneratedRegex(@"^[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$")] private static partial Regex Int11();
    [GeneratedRegex(@"^([-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9_]+([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")] private static partial Regex Float11();
    [GeneratedRegex(@"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?$")] private static partial Regex TimestampRx();

    public static bool IsNull12(string s) => s is "" or "~" or "null" or "Null" or "NULL";
    public static bool TryBool12(string s, out bool b)
    {
        switch (s)
        {
            case "true" or "True" or "TRUE": b = true; return true;
            case "false" or "False" or "FALSE": b = false; return true;
            default: b = false; return false;
        }
    }

    public static bool TryBool11(string s, out bool b)
    {
        switch (s)
        {
            case "yes" or "Yes" or "YES" or "on" or "On" or "ON": b = true; return true;
            case "no" or "No" or "NO" or "off" or "Off" or "OFF": b = false; return true;
            default: return TryBool12(s, out b);
        }
    }

    /// <summary>A YAML 1.2 core integer: decimal, <c>0o</c> octal or <c>0x</c> hexadecimal.</summary>
    public static bool TryInt12(string s, out BigInteger value)
    {
        value = default;
        if (s.Length > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x'))
            return ParseRadix(s.AsSpan(2), s[1] == 'o' ? 8 : 16, out value);
        if (!Int12().IsMatch(s)) return false;
        value = BigInteger.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>A YAML 1.1 integer: underscores, <c>0b</c>, leading-zero octal, <c>0x</c>, sexagesimal <c>1:30:00</c>.</summary>
    public static bool TryInt11(string s, out BigInteger value)
    {
        value = default;
        if (!Int11().IsMatch(s)) return false;
        var t = s.Replace("_", "");
        bool neg = t[0] == '-';
        if (t[0] is '-' or '+') t = t[1..];
        if (t.Contains(':'))
        {
            foreach (var part in t.Split(':')) value = value * 60 + BigInteger.Parse(part, CultureInfo.InvariantCulture);
        }
        else if (t.StartsWith("0b")) { if (!ParseRadix(t.AsSpan(2), 2, out value)) return false; }
        else if (t.StartsWith("0x")) { if (!ParseRadix(t.AsSpan(2), 16, out value)) return false; }
        else if (t.Length > 1 && t[0] == '0') { if (!ParseRadix(t.AsSpan(1), 8, out value)) return false; }
        else value = BigInteger.Parse(t, CultureInfo.InvariantCulture);
        if (neg) value = -value;
        return true;
    }

    static bool ParseRadix(ReadOnlySpan<char> digits, int radix, out BigInteger value)
    {
        value = BigInteger.Zero;
        if (digits.IsEmpty) return false;
        foreach (var c in digits)
        {
            int d = c switch { >= '0' and <= '9' => c - '0', >= 'a' and <= 'f' => c - 'a' + 10, >= 'A' and <= 'F' => c - 'A' + 10, _ => 99 };
            if (d >= radix) return false;
            value = value * radix + d;
        }
        return true;
    }

    static bool TrySpecialFloat(string s, out double d)
    {
        switch (s)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": d = double.PositiveInfinity; return true;
            case "-.inf" or "-.Inf" or "-.INF": d = double.NegativeInfinity; return true;
            case ".nan" or ".NaN" or ".NAN": d = double.NaN; return true;
            default: d = 0; return false;
        }
    }

    /// <summary>A YAML 1.2 core float. <paramref name="text"/> is the numeric text (for keeping every digit).</summary>
    public static bool TryFloat12(string s, out double d)
    {
        if (TrySpecialFloat(s, out d)) return true;
        if (!Float12().IsMatch(s)) return false;
        d = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        return true;
    }

    public static bool TryFloat11(string s, out double d)
    {
        if (TrySpecialFloat(s, out d)) return true;
        if (!Float11().IsMatch(s)) return false;
        var t = s.Replace("_", "");
        if (t.Contains(':'))
        {
            bool neg = t[0] == '-';
            if (t[0] is '-' or '+') t = t[1..];
            double v = 0;
            foreach (var part in t.Split(':')) v = v * 60 + double.Parse(part, NumberStyles.Float, CultureInfo.InvariantCulture);
            d = neg ? -v : v;
            return true;
        }
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out d);
    }

    /// <summary>
    /// Whether a float's text holds more significant digits than a double keeps: such a number is read as an
    /// exact <see cref="DecimalNumber"/> so that no digit is lost.
    /// </summary>
    public static bool NeedsDecimal(string s)
    {
        int digits = 0; bool leading = true;
        foreach (var c in s)
        {
            if (c is 'e' or 'E') break;
            if (c is < '0' or > '9') continue;
            if (leading && c == '0') continue;
            leading = false; digits++;
        }
        return digits > 17;
    }

    /// <summary>
    /// Parses a YAML timestamp (<c>2001-12-14t21:59:43.10-05:00</c>, <c>2001-12-14 21:59:43.10 -5</c>,
    /// <c>2002-12-14</c>). A date alone gives a <see cref="DateOnly"/>; a time without a zone has no offset.
    /// </summary>
    public static bool TryTimestamp(string s, out Timestamp ts, out DateOnly date, out bool dateOnly)
    {
        ts = default; date = default; dateOnly = false;
        var m = TimestampRx().Match(s);
        if (!m.Success) return false;
        int year = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int month = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        int day = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) || year < 1) return false;
        if (!m.Groups[4].Success) { date = new DateOnly(year, month, day); dateOnly = true; return true; }
        int hour = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        int minute = int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
        int second = int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture);
        if (hour > 23 || minute > 59 || second > 60) return false;
        int nanos = 0;
        if (m.Groups[7].Success && m.Groups[7].Value.Length > 0)
        {
            var frac = m.Groups[7].Value;
            frac = frac.Length > 9 ? frac[..9] : frac.PadRight(9, '0');
            nanos = int.Parse(frac, CultureInfo.InvariantCulture);
        }
        short? offset = null;
        if (m.Groups[8].Success)
        {
            var z = m.Groups[8].Value;
            if (z == "Z") offset = 0;
            else
            {
                int sign = z[0] == '-' ? -1 : 1;
                var body = z[1..].Replace(":", "");
                int hh, mm = 0;
                if (body.Length <= 2) hh = int.Parse(body, CultureInfo.InvariantCulture);
                else { hh = int.Parse(body[..^2], CultureInfo.InvariantCulture); mm = int.Parse(body[^2..], CultureInfo.InvariantCulture); }
                offset = (short)(sign * (hh * 60 + mm));
            }
        }
        var local = new DateTime(year, month, day, hour, minute, Math.Min(second, 59), DateTimeKind.Unspecified);
        long unix = (long)(local - DateTime.UnixEpoch).TotalSeconds - (offset ?? 0) * 60L;
        ts = new Timestamp(unix, nanos, offset);
        return true;
    }

    /// <summary>The kind a plain scalar resolves to under one schema (String when it is just text).</summary>
    public static TokenKind PlainKind(string s, bool yaml11)
    {
        if (s.Length == 0) return TokenKind.Null;
        char c = s[0];
        // Fast path: most text starts with a letter that begins no other type.
        if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.' or '~' or 'n' or 'N' or 't' or 'T' or 'f' or 'F' or 'y' or 'Y' or 'o' or 'O'))
            return TokenKind.String;
        if (IsNull12(s)) return TokenKind.Null;
        if (yaml11)
        {
            if (TryBool11(s, out _)) return TokenKind.Bool;
            if (Int11().IsMatch(s)) return TokenKind.Int;
            if (TryFloat11(s, out _)) return TokenKind.Float;
            if (TimestampRx().IsMatch(s)) return TokenKind.Timestamp;
            return TokenKind.String;
        }
        if (TryBool12(s, out _)) return TokenKind.Bool;
        if (TryInt12(s, out _)) return TokenKind.Int;
        if (TryFloat12(s, out _)) return TokenKind.Float;
        return TokenKind.String;
    }

    /// <summary>
    /// Whether a string may be written as a plain scalar: it reads back as the same string under YAML 1.2 and
    /// YAML 1.1 (PyYAML), and is not PyYAML's merge (<c>&lt;&lt;</c>) or value (<c>=</c>) key. Tabs are quoted:
    /// YamlDotNet's emitter writes them plain, which PyYAML rejects.
    /// </summary>
    public static bool IsPlainSafe(string s) =>
        s.Length > 0 && s != "<<" && s != "=" && !s.Contains('\t') && PlainKind(s, false) == TokenKind.String && PlainKind(s, true) == TokenKind.String;

    /// <summary>The shortest text that reads back as the same double under both schemas (always a '.', signed exponent).</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return ".nan";
        if (double.IsPositiveInfinity(d)) return ".inf";
        if (double.IsNegativeInfinity(d)) return "-.inf";
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        int e = s.IndexOfAny(['E', 'e']);
        string mant = e < 0 ? s : s[..e];
        string exp = e < 0 ? "" : s[(e + 1)..];
        if (!mant.Contains('.')) mant += ".0";
        if (exp.Length == 0) return mant;
        if (exp[0] is not ('-' or '+')) exp = "+" + exp;
        return mant + "e" + exp;
    }

    /// <summary>An exact decimal as YAML float text, every digit kept.</summary>
    public static string FormatDecimal(DecimalNumber d)
    {
        var s = d.ToString();
        return s.Contains('.') ? s : s + ".0";
    }

    public static string FormatDate(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string FormatTime(TimeOnly t)
    {
        var s = t.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        long frac = t.Ticks % TimeSpan.TicksPerSecond;
        return frac == 0 ? s : s + "." + frac.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
    }
}
