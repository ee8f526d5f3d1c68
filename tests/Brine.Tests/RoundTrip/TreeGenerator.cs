using System.Numerics;
using Brine.Model;

namespace Brine.Tests.RoundTrip;

/// <summary>Which shapes a generated tree may hold. The main property of a format turns off what it refuses.</summary>
public sealed record GenOptions
{
    public int MaxDepth { get; init; } = 4;
    public int MaxWidth { get; init; } = 5;
    /// <summary>Integers from 2^63 to 2^64−1 (unsigned 64-bit).</summary>
    public bool UInt64Ints { get; init; } = true;
    /// <summary>Integers below −2^63 or above 2^64−1.</summary>
    public bool BigInts { get; init; } = true;
    public bool NonFinite { get; init; } = true;
    /// <summary>Decimals of more than 34 significant digits (BSON's Decimal128 holds 34).</summary>
    public bool LongDecimals { get; init; } = true;
    /// <summary>The same node placed twice (never on its own path).</summary>
    public bool Shared { get; init; } = true;
    /// <summary>A node inside itself (a map, or an untagged list, placed under one of its descendants).</summary>
    public bool Cycles { get; init; }
    /// <summary>Integer map keys now and then (always unique by text within a map).</summary>
    public bool IntKeys { get; init; } = true;
    /// <summary>Tags that no format gives a meaning to (<c>!custom</c>) on scalars, lists and maps.</summary>
    public bool ForeignTags { get; init; } = true;
    /// <summary>Keys that some conventions treat specially (<c>@attr</c>, <c>#text</c>, the empty key, <c>my key</c>).</summary>
    public bool OddKeys { get; init; } = true;
    /// <summary>NUL characters inside map keys (BSON keys are C strings).</summary>
    public bool NulInKeys { get; init; } = true;
    /// <summary>What the top-level value may be.</summary>
    public TopLevel Top { get; init; } = TopLevel.Any;
}

public enum TopLevel { Any, Container, Map }

/// <summary>
/// A seeded generator of random <see cref="Node"/> graphs: every scalar kind with its edge values, maps, lists,
/// the model's tags (<c>set</c>, <c>tuple</c>, class names on maps), shared nodes and, when asked, cycles.
/// The same seed and options give the same graph.
/// </summary>
public sealed class TreeGenerator
{
    readonly Random _rng;
    readonly GenOptions _o;
    /// <summary>Finished nodes that may be placed again (never an ancestor of the place: no cycle).</summary>
    readonly List<Node> _finished = new();
    readonly List<Node> _path = new();

    public TreeGenerator(int seed, GenOptions options) { _rng = new Random(seed); _o = options; }

    public static Node Generate(int seed, GenOptions options) => new TreeGenerator(seed, options).Root();

    public Node Root() => _o.Top switch
    {
        TopLevel.Map => Map(0),
        TopLevel.Container => Chance(0.5) ? Map(0) : List(0),
        _ => Chance(0.8) ? (Chance(0.5) ? Map(0) : List(0)) : Scalar(),
    };

    bool Chance(double p) => _rng.NextDouble() < p;
    T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    Node Value(int depth)
    {
        if (_o.Cycles && depth > 0 && Chance(0.06))
        {
            var ancestors = _path.Where(n => n.IsMap || (n.IsList && n.Tag is null)).ToList();
            if (ancestors.Count > 0) return ancestors[_rng.Next(ancestors.Count)];
        }
        if (_o.Shared && _finished.Count > 0 && Chance(0.08)) return _finished[_rng.Next(_finished.Count)];
        Node n;
        if (depth >= _o.MaxDepth || Chance(0.55)) n = Scalar();
        else n = Chance(0.5) ? Map(depth) : List(depth);
        _finished.Add(n);
        return n;
    }

    Node Map(int depth)
    {
        var m = Node.Map();
        double t = _rng.NextDouble();
        if (t < 0.2) m.Tag = Pick("models.User", "app.models.Order", "shop.Item");
        else if (_o.ForeignTags && t < 0.23) m.Tag = "!custom";
        _path.Add(m);
        int count = _rng.Next(_o.MaxWidth + 1);
        var used = new HashSet<string>();
        for (int i = 0; i < count; i++)
        {
            var key = Key(used);
            if (key is null) continue;
            m.Add(key, Value(depth + 1));
        }
        _path.RemoveAt(_path.Count - 1);
        return m;
    }

    Node List(int depth)
    {
        var l = Node.List();
        double t = _rng.NextDouble();
        int count = _rng.Next(_o.MaxWidth + 1);
        if (t < 0.12)
        {
            // A set holds unique hashable scalars (as Python's does).
            l.Tag = "set";
            var seen = new HashSet<string>();
            for (int i = 0; i < count; i++)
            {
                var item = Chance(0.5) ? Node.String(Word()) : Node.Int(_rng.Next(-1000, 1000));
                if (seen.Add(item.Kind + ":" + item.Value)) l.Add(item);
            }
            return l;
        }
        if (t < 0.27) l.Tag = "tuple";
        else if (_o.ForeignTags && t < 0.30) l.Tag = "!custom";
        _path.Add(l);
        for (int i = 0; i < count; i++) l.Add(Value(depth + 1));
        _path.RemoveAt(_path.Count - 1);
        return l;
    }

    /// <summary>A key unique by its text within the map (so no format merges two keys).</summary>
    Node? Key(HashSet<string> used)
    {
        Node k;
        double t = _rng.NextDouble();
        if (_o.IntKeys && t < 0.12) k = Node.Int(Pick<long>(0, 1, -7, 42, 1L << 40, long.MinValue, _rng.Next()));
        else if (_o.OddKeys && t < 0.2) k = Node.String(Pick("", "my key", "1st", "@attr", "#text", "x.y", "é中", "a\tb"));
        else if (_o.NulInKeys && t < 0.22) k = Node.String("nul\0key");
        else k = Node.String(Word());
        var text = k.Value is long l ? l.ToString(System.Globalization.CultureInfo.InvariantCulture) : (string)k.Value!;
        return used.Add(text) ? k : null;
    }

    string Word()
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        int n = 1 + _rng.Next(8);
        var c = new char[n];
        for (int i = 0; i < n; i++) c[i] = letters[_rng.Next(letters.Length)];
        return new string(c);
    }

    public Node Scalar()
    {
        var n = _rng.Next(12) switch
        {
            0 => Node.Null(),
            1 => Node.Bool(Chance(0.5)),
            2 => Int(),
            3 => Node.Float(Float()),
            4 => Node.Decimal(Decimal()),
            5 or 6 => Node.String(Text()),
            7 => Node.Bytes(Bytes()),
            8 => Node.Timestamp(Timestamp()),
            9 => Node.Date(DateOnly.FromDayNumber(_rng.Next(DateOnly.MinValue.DayNumber, DateOnly.MaxValue.DayNumber + 1))),
            10 => Node.Time(Time()),
            _ => Node.Uuid(Uuid()),
        };
        if (_o.ForeignTags && Chance(0.04)) n.Tag = "!custom";
        return n;
    }

    Node Int()
    {
        double t = _rng.NextDouble();
        if (t < 0.4) return Node.Int(_rng.Next(-1000, 1000));
        if (t < 0.6) return Node.Int(_rng.NextInt64(long.MinValue, long.MaxValue));
        if (t < 0.8) return Node.Int(Pick(long.MinValue, long.MaxValue, int.MinValue, int.MaxValue, int.MaxValue + 1L, int.MinValue - 1L, uint.MaxValue, 0L, -1L));
        if (_o.UInt64Ints && t < 0.9) return Node.Int(Pick(new BigInteger(ulong.MaxValue), (BigInteger)long.MaxValue + 1, (BigInteger)long.MaxValue + 1 + _rng.Next()));
        if (_o.BigInts)
            return Node.Int(Pick((BigInteger)ulong.MaxValue + 1, (BigInteger)long.MinValue - 1, BigInteger.Pow(10, 30) + _rng.Next(), -BigInteger.Pow(7, 60), BigInteger.Pow(2, 200)));
        return Node.Int(_rng.Next());
    }

    double Float()
    {
        double t = _rng.NextDouble();
        if (t < 0.3) return Math.Round((_rng.NextDouble() - 0.5) * 2000, _rng.Next(6));
        if (t < 0.6) return BitConverter.Int64BitsToDouble(_rng.NextInt64()) is var d && double.IsFinite(d) ? d : 1.5;
        if (_o.NonFinite && t < 0.7) return Pick(double.NaN, double.PositiveInfinity, double.NegativeInfinity);
        return Pick(-0.0, 0.0, double.Epsilon, 1e-310, double.MaxValue, double.MinValue, 1e300, 1e-300, 0.1, 3.0, 1e20, 1e16, 123456789012345680.0, -2.5e-8);
    }

    DecimalNumber Decimal()
    {
        int digits = _o.LongDecimals && Chance(0.3) ? 35 + _rng.Next(10) : 1 + _rng.Next(_o.LongDecimals ? 34 : 30);
        var s = new char[digits];
        for (int i = 0; i < digits; i++) s[i] = (char)('0' + _rng.Next(10));
        var unscaled = BigInteger.Parse(new string(s));
        if (Chance(0.4)) unscaled = -unscaled;
        int scale = Chance(0.1) ? -_rng.Next(1, 5) : _rng.Next(0, 12);
        return new DecimalNumber(unscaled, scale);
    }

    string Text()
    {
        double t = _rng.NextDouble();
        if (t < 0.35) return Word();
        if (t < 0.45) return "";
        if (t < 0.6) return Pick("héllo wörld", "中文字符", "emoji 😀👍🏽", "עברית", "Ωμέγα", "ﬁ ligature", "\u00a0nbsp", "zero\u200bwidth");
        if (t < 0.72) return Pick("tab\there", "line\nbreak", "cr\rlf\r\n", "nul\0byte", "bell\u0007", "del\u007f", "\u0001\u001f", "esc\u001b[0m");
        if (t < 0.84) return Pick("123", "true", "null", "1.5", "2024-05-01", " lead", "trail ", "  ", "<tag>&amp;</tag>", "\"quoted\"", "back\\slash", "py/id", "$ref");
        var len = 500 + _rng.Next(3000);
        var c = new char[len];
        for (int i = 0; i < len; i++) c[i] = (char)_rng.Next(0x20, 0x7f);
        return new string(c);
    }

    byte[] Bytes()
    {
        var b = new byte[Chance(0.1) ? 0 : Chance(0.1) ? 1000 + _rng.Next(2000) : _rng.Next(1, 40)];
        _rng.NextBytes(b);
        return b;
    }

    Timestamp Timestamp()
    {
        // Years 1–9999 (0001-01-02 … 9999-12-30 keeps every offset inside the calendar).
        const long Min = -62135596800 + 86400, Max = 253402300799 - 86400;
        long secs = Chance(0.5) ? _rng.NextInt64(0, 2_000_000_000) : _rng.NextInt64(Min, Max);
        int nanos = Pick(0, 0, _rng.Next(1000) * 1_000_000, _rng.Next(1_000_000) * 1000, _rng.Next(1_000_000_000));
        short? offset = Pick<short?>(null, 0, 0, (short)_rng.Next(-14 * 60, 14 * 60 + 1), 330, -480);
        return new Timestamp(secs, nanos, offset);
    }

    TimeOnly Time()
    {
        long ticks = _rng.NextInt64(0, TimeSpan.TicksPerDay);
        ticks = Pick(ticks - ticks % TimeSpan.TicksPerSecond, ticks - ticks % 10, ticks);
        return new TimeOnly(ticks);
    }

    Guid Uuid()
    {
        var b = new byte[16];
        _rng.NextBytes(b);
        return new Guid(b);
    }
}
