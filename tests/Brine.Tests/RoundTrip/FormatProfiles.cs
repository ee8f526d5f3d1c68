using System.Globalization;
using System.Numerics;
using Brine.Formats;
using Brine.Model;

namespace Brine.Tests.RoundTrip;

/// <summary>
/// What one format does to a graph, as its documented losses say: the tree that must come back (<see cref="Expect"/>)
/// or the reason it must be refused (<see cref="Refusal"/>). Each profile is the executable form of the format's
/// <c>Capabilities.Losses</c> text and its page in docs/formats; the round-trip properties hold every format to it.
/// </summary>
public abstract class FormatProfile
{
    public Format Format { get; }
    /// <summary>Written with <c>WriteOptions.KeepReferences</c> (<c>--refs keep</c>).</summary>
    public bool KeepReferences { get; }
    public virtual string Label => KeepReferences ? Format.Name + " (refs keep)" : Format.Name;

    protected FormatProfile(string name, bool keepReferences)
    {
        Format = FormatRegistry.Default.GetByName(name);
        KeepReferences = keepReferences;
    }

    /// <summary>Whether the writer receives anchors and aliases (else the graph is expanded first, as the converter does).</summary>
    public bool PassesReferences => Format.Capabilities.References switch
    {
        ReferenceSupport.Native => true,
        ReferenceSupport.Convention => KeepReferences,
        _ => false,
    };

    public bool MultipleValues => Format.Capabilities.MultipleValues;

    /// <summary>The generator options of the main property: everything the format carries, nothing it refuses.</summary>
    public abstract GenOptions Carried { get; }

    /// <summary>Why the format must refuse these values (null when it must carry them).</summary>
    public virtual string? Refusal(IReadOnlyList<Node> roots)
    {
        foreach (var root in roots)
            if (!PassesReferences && HasCycle(root)) return "a cycle cannot be expanded";
        foreach (var n in Walk(roots)) if (RefusedNode(n) is { } why) return why;
        return null;
    }

    /// <summary>A single node the format refuses (a scalar it cannot hold, a key it cannot write).</summary>
    protected virtual string? RefusedNode(Node n) => null;

    /// <summary>The values that must be read back.</summary>
    public virtual List<Node> Expect(IReadOnlyList<Node> roots)
    {
        var memo = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        return roots.Select(r => Map(r, memo, KeepsSharing)).ToList();
    }

    /// <summary>Whether a container shared in the input stays one shared node after the round trip.</summary>
    public virtual bool KeepsSharing(Node container) => PassesReferences;

    /// <summary>What a scalar becomes (its tag included).</summary>
    protected abstract Node Scalar(Node n);
    /// <summary>What a map key becomes.</summary>
    protected virtual Node Key(Node k) => Scalar(k);
    protected abstract string? ListTag(string? tag);
    protected abstract string? MapTag(string? tag);

    /// <summary>Copies the graph through the loss functions without recursion; shared nodes stay shared where the format keeps them.</summary>
    protected Node Map(Node root, Dictionary<Node, Node> memo, Func<Node, bool> keepsSharing)
    {
        Node Make(Node n, Stack<(Node from, Node to)> todo)
        {
            if (n.IsScalar) return Scalar(n);
            bool share = keepsSharing(n);
            if (share && memo.TryGetValue(n, out var done)) return done;
            var copy = n.IsList ? Node.List(ListTag(n.Tag)) : Node.Map(MapTag(n.Tag));
            if (share) memo[n] = copy;
            todo.Push((n, copy));
            return copy;
        }
        var todo = new Stack<(Node from, Node to)>();
        var result = Make(root, todo);
        while (todo.Count > 0)
        {
            var (from, to) = todo.Pop();
            if (from.IsList) foreach (var item in from.Items!) to.Add(Make(item, todo));
            else foreach (var e in from.Entries!) to.Add(Key(e.Key), Make(e.Value, todo));
        }
        return result;
    }

    // ---- shared helpers for the loss functions ----

    protected static Node Untagged(Node n) { var c = Clone(n); c.Tag = null; return c; }

    public static Node Clone(Node n) => n.Kind switch
    {
        TokenKind.Null => Node.Null(n.Tag),
        TokenKind.Bool => Tagged(Node.Bool((bool)n.Value!), n.Tag),
        TokenKind.Int => Tagged(n.Value is long l ? Node.Int(l) : Node.Int((BigInteger)n.Value!), n.Tag),
        TokenKind.Float => Tagged(Node.Float((double)n.Value!), n.Tag),
        TokenKind.Decimal => Tagged(Node.Decimal((DecimalNumber)n.Value!), n.Tag),
        TokenKind.String => Tagged(Node.String((string)n.Value!), n.Tag),
        TokenKind.Bytes => Tagged(Node.Bytes((byte[])n.Value!), n.Tag),
        TokenKind.Timestamp => Tagged(Node.Timestamp((Timestamp)n.Value!), n.Tag),
        TokenKind.Date => Tagged(Node.Date((DateOnly)n.Value!), n.Tag),
        TokenKind.Time => Tagged(Node.Time((TimeOnly)n.Value!), n.Tag),
        TokenKind.Uuid => Tagged(Node.Uuid((Guid)n.Value!), n.Tag),
        _ => throw new ArgumentException("not a scalar"),
    };

    static Node Tagged(Node n, string? tag) { n.Tag = tag; return n; }

    /// <summary>Whether the double nearest the decimal prints back (shortest round-trip form) as the same number.</summary>
    public static bool DoubleHolds(DecimalNumber d, out double value)
    {
        value = d.ToDouble();
        return double.IsFinite(value) && DecimalNumber.TryParse(value.ToString("R", CultureInfo.InvariantCulture), out var back) && back.ValueEquals(d);
    }

    /// <summary>A decimal with a negative scale (<c>12E+3</c>) as plain digits with scale 0 (<c>12000</c>), as text parsing gives it.</summary>
    public static DecimalNumber PlainScale(DecimalNumber d) =>
        d.Scale >= 0 ? d : new DecimalNumber(d.Unscaled * BigInteger.Pow(10, -d.Scale), 0);

    public static string TimeText(TimeOnly t) => t.ToString(t.Ticks % TimeSpan.TicksPerSecond == 0 ? "HH:mm:ss" : "HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
    public static string DateText(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The text a non-string key becomes in formats whose keys are strings.</summary>
    public static string KeyText(Node k) => k.Value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        null => "null",
        _ => throw new NotSupportedException("the generator makes only string and integer keys"),
    };

    /// <summary>A timestamp outside years 1–9999, which text formats cannot print (Timestamp.ToString needs DateTimeOffset).</summary>
    public static bool OutsideCalendar(Node n) => n.Value is Timestamp t && (t.UnixSeconds < -62135596800 || t.UnixSeconds > 253402300799);

    /// <summary>A string (value or key) holding a UTF-16 surrogate without its pair.</summary>
    public static bool HasLoneSurrogate(Node n) => n.Value is string s && LoneSurrogate(s);

    static bool LoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }

    /// <summary>What UTF-8 encoding makes of a string: each lone surrogate becomes U+FFFD.</summary>
    public static string Utf8Replaced(string s) => System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(s));

    public static bool IsBeyond64Bits(Node n) => n.Value is BigInteger b && (b < long.MinValue || b > ulong.MaxValue);
    public static bool IsUInt64Only(Node n) => n.Value is BigInteger b && b > long.MaxValue && b <= ulong.MaxValue;

    /// <summary>Every distinct node of the graphs (keys included), without recursion.</summary>
    public static IEnumerable<Node> Walk(IEnumerable<Node> roots)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<Node>(roots);
        while (todo.Count > 0)
        {
            var n = todo.Pop();
            if (!seen.Add(n)) continue;
            yield return n;
            if (n.Items is { } items) foreach (var i in items) todo.Push(i);
            else if (n.Entries is { } entries) foreach (var e in entries) { todo.Push(e.Key); todo.Push(e.Value); }
        }
    }

    /// <summary>
    /// The nodes a <see cref="NodeReader"/> gives an anchor: those reached more than once when each node's children are
    /// visited once. A node inside a shared node, and shared nowhere else, has none.
    /// </summary>
    public static HashSet<Node> Anchored(Node root)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var anchored = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<Node>();
        todo.Push(root);
        while (todo.Count > 0)
        {
            var n = todo.Pop();
            if (!seen.Add(n)) { anchored.Add(n); continue; }
            if (n.Items is { } items) foreach (var i in items) todo.Push(i);
            else if (n.Entries is { } entries) foreach (var e in entries) todo.Push(e.Value);
        }
        return anchored;
    }

    public static bool HasCycle(Node root)
    {
        var state = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance); // 1 open, 2 done
        var stack = new Stack<(Node node, int next)>();
        stack.Push((root, 0));
        state[root] = 1;
        while (stack.Count > 0)
        {
            var (n, i) = stack.Pop();
            var children = n.Items ?? (IList<Node>?)n.Entries?.Select(e => e.Value).ToList() ?? Array.Empty<Node>();
            if (i >= children.Count) { state[n] = 2; continue; }
            stack.Push((n, i + 1));
            var c = children[i];
            if (c.IsScalar) continue;
            if (state.TryGetValue(c, out var s)) { if (s == 1) return true; continue; }
            state[c] = 1;
            stack.Push((c, 0));
        }
        return false;
    }

    public override string ToString() => Label;

    /// <summary>Every tree format of the registry with the profile that states its losses (tabular formats are not here).</summary>
    public static IReadOnlyList<FormatProfile> All { get; } = new FormatProfile[]
    {
        new JsonProfile("json", false), new JsonProfile("json", true),
        new JsonProfile("jsonl", false), new JsonProfile("jsonl", true),
        new MessagePackProfile(),
        new CborProfile(),
        new PickleProfile(),
        new XmlProfile(false), new XmlProfile(true),
        new BsonProfile(),
    };

    public static FormatProfile Get(string label) => All.First(p => p.Label == label);
}

/// <summary>
/// JSON and JSON Lines: "bytes → base64 string ({"py/b64": …} under --refs keep); timestamps, dates, times and uuids →
/// strings; NaN and ±Infinity refused; tags on scalars and on lists other than tuple/set dropped; non-string map keys →
/// their text; decimals that a double holds exactly read back as floats". Map tags travel as <c>py/object</c>.
/// </summary>
public sealed class JsonProfile : FormatProfile
{
    public JsonProfile(string name, bool keep) : base(name, keep) { }

    public override GenOptions Carried => new() { NonFinite = false, Cycles = KeepReferences };

    protected override string? RefusedNode(Node n) =>
        n.Kind == TokenKind.Float && !double.IsFinite((double)n.Value!) ? "NaN and ±Infinity have no JSON number"
        : HasLoneSurrogate(n) ? "a lone surrogate has no UTF-8 form" : null;

    // jsonpickle has no reference to a tuple or a set: the writer writes them again where they recur, and with them
    // every node inside that has no anchor of its own (one shared only through the tuple).
    public override List<Node> Expect(IReadOnlyList<Node> roots) => roots.Select(r =>
    {
        var anchored = Anchored(r);
        var memo = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        return Map(r, memo, n => KeepReferences && anchored.Contains(n) && !(n.IsList && n.Tag is "tuple" or "set"));
    }).ToList();

    protected override Node Scalar(Node n) => n.Kind switch
    {
        TokenKind.Decimal => DoubleHolds((DecimalNumber)n.Value!, out var d) ? Node.Float(d) : Node.Decimal(PlainScale((DecimalNumber)n.Value!)),
        TokenKind.Bytes => KeepReferences ? Node.Bytes((byte[])n.Value!) : Node.String(Convert.ToBase64String((byte[])n.Value!)),
        TokenKind.Timestamp => Node.String(((Timestamp)n.Value!).ToString()),
        TokenKind.Date => Node.String(DateText((DateOnly)n.Value!)),
        TokenKind.Time => Node.String(TimeText((TimeOnly)n.Value!)),
        TokenKind.Uuid => Node.String(((Guid)n.Value!).ToString("D")),
        _ => Untagged(n),
    };

    protected override Node Key(Node k) => Node.String(KeyText(k));
    protected override string? ListTag(string? tag) => tag is "tuple" or "set" ? tag : null;
    protected override string? MapTag(string? tag) => tag;
}

/// <summary>
/// MessagePack: "tags dropped (except msgpack.ext:N on bytes); integers beyond 64 bits refused; decimal → float when
/// exact, else string; timestamp offset dropped (kept as UTC); date, time, uuid → strings; references expanded".
/// </summary>
public sealed class MessagePackProfile : FormatProfile
{
    public MessagePackProfile() : base("msgpack", false) { }

    public override GenOptions Carried => new() { BigInts = false };

    protected override string? RefusedNode(Node n) => IsBeyond64Bits(n) ? "an integer beyond 64 bits"
        : HasLoneSurrogate(n) ? "a lone surrogate has no UTF-8 form" : null;

    protected override Node Scalar(Node n) => n.Kind switch
    {
        TokenKind.Decimal => DoubleHolds((DecimalNumber)n.Value!, out var d) ? Node.Float(d) : Node.String(((DecimalNumber)n.Value!).ToString()),
        TokenKind.Timestamp => Node.Timestamp(new Timestamp(((Timestamp)n.Value!).UnixSeconds, ((Timestamp)n.Value!).Nanoseconds, 0)),
        TokenKind.Date => Node.String(DateText((DateOnly)n.Value!)),
        TokenKind.Time => Node.String(TimeText((TimeOnly)n.Value!)),
        TokenKind.Uuid => Node.String(((Guid)n.Value!).ToString("D")),
        _ => Untagged(n),
    };

    protected override string? ListTag(string? tag) => null;
    protected override string? MapTag(string? tag) => null;
}

/// <summary>
/// CBOR: "tags other than set and cbor:N dropped (CBOR tags are numbers); time of day → string; timestamps outside
/// years 1–9999 → epoch seconds". docs/formats/cbor.md adds: a timestamp without offset is written with Z (reads back as UTC).
/// </summary>
public sealed class CborProfile : FormatProfile
{
    public CborProfile() : base("cbor", false) { }

    public override GenOptions Carried => new() { Cycles = true };

    protected override string? RefusedNode(Node n) => HasLoneSurrogate(n) ? "a lone surrogate has no UTF-8 form" : null;

    protected override Node Scalar(Node n) => n.Kind switch
    {
        TokenKind.Time => Node.String(TimeText((TimeOnly)n.Value!)),
        TokenKind.Timestamp => Node.Timestamp(new Timestamp(((Timestamp)n.Value!).UnixSeconds, ((Timestamp)n.Value!).Nanoseconds, ((Timestamp)n.Value!).OffsetMinutes ?? 0)),
        _ => Untagged(n),
    };

    protected override string? ListTag(string? tag) => tag == "set" ? tag : null;
    protected override string? MapTag(string? tag) => null;
}

/// <summary>
/// Pickle: "tags that are not Python class names on lists and scalars; timestamps below a microsecond; years outside
/// 1–9999". Lists keep tuple and set, maps keep class names.
/// </summary>
public sealed class PickleProfile : FormatProfile
{
    public PickleProfile() : base("pickle", false) { }

    public override GenOptions Carried => new() { Cycles = true };

    protected override string? RefusedNode(Node n) => OutsideCalendar(n) ? "a timestamp outside Python's years 1–9999" : null;

    // CPython memoizes no empty tuple (there is one in Python), so Brine's writer does not either.
    public override bool KeepsSharing(Node container) => !(container.IsList && container.Tag == "tuple" && container.Items!.Count == 0);

    protected override Node Scalar(Node n) => n.Kind switch
    {
        TokenKind.Timestamp => Node.Timestamp(new Timestamp(((Timestamp)n.Value!).UnixSeconds, ((Timestamp)n.Value!).Nanoseconds / 1000 * 1000, ((Timestamp)n.Value!).OffsetMinutes)),
        // Python's time has microseconds, as its datetime does (not in the format's loss text: see docs/losses.md).
        TokenKind.Time => Node.Time(new TimeOnly(((TimeOnly)n.Value!).Ticks / 10 * 10)),
        // decimal.Decimal's text keeps the value; the reader gives an exponent form plain digits (not in the loss text).
        TokenKind.Decimal => Node.Decimal(PlainScale((DecimalNumber)n.Value!)),
        // bytearray (and out-of-band picklebuffer) are the scalar tags pickle has.
        TokenKind.Bytes when n.Tag is "bytearray" => Clone(n),
        // "Lone UTF-16 surrogates in strings are not kept": UTF-8 encoding makes them U+FFFD.
        TokenKind.String => Node.String(Utf8Replaced((string)n.Value!)),
        _ => Untagged(n),
    };

    protected override Node Key(Node k) => Scalar(k);
    protected override string? ListTag(string? tag) => tag is "tuple" or "set" or "frozenset" ? tag : null;
    protected override string? MapTag(string? tag) => tag is not null && tag.Contains('.') && !tag.StartsWith('!') ? tag : null;
}

/// <summary>
/// XML: "one top-level value per document; map keys become strings; …". Scalars carry <c>b:type</c>, tags <c>b:tag</c>.
/// </summary>
public sealed class XmlProfile : FormatProfile
{
    public XmlProfile(bool keep) : base("xml", keep) { }

    public override GenOptions Carried => new() { Cycles = KeepReferences };

    public override string? Refusal(IReadOnlyList<Node> roots) =>
        roots.Count > 1 ? "XML holds one top-level value" : base.Refusal(roots);

    protected override string? RefusedNode(Node n) => OutsideCalendar(n) ? "a timestamp outside years 1–9999 (not in the loss text)" : null;

    protected override Node Scalar(Node n) => n.Kind switch
    {
        TokenKind.Decimal => Tagged(Node.Decimal(PlainScale((DecimalNumber)n.Value!)), n.Tag),
        _ => Clone(n),
    };

    static Node Tagged(Node n, string? tag) { n.Tag = tag; return n; }

    protected override Node Key(Node k) => Node.String(KeyText(k));
    protected override string? ListTag(string? tag) => tag;
    protected override string? MapTag(string? tag) => tag;
}

/// <summary>
/// BSON: "top level must be maps (a top-level list becomes one document per item); timestamps keep milliseconds and
/// no offset; dates become midnight UTC datetimes, times become strings; integers beyond 64 bits and decimals beyond 34
/// digits are refused; tags other than BSON's own are dropped; non-string keys become strings".
/// </summary>
public sealed class BsonProfile : FormatProfile
{
    public BsonProfile() : base("bson", false) { }

    public override GenOptions Carried => new() { Top = TopLevel.Map, BigInts = false, UInt64Ints = false, LongDecimals = false, NulInKeys = false };

    public override string? Refusal(IReadOnlyList<Node> roots)
    {
        foreach (var r in roots)
        {
            if (r.IsScalar) return "a top-level scalar is no document";
            if (r.IsList && r.Items!.Any(i => !i.IsMap)) return "a top-level list item that is not a map is no document";
        }
        return base.Refusal(roots);
    }

    protected override string? RefusedNode(Node n)
    {
        if (n.Value is BigInteger) return "an integer beyond 64 bits";
        if (n.Value is DecimalNumber d && BigInteger.Abs(d.Unscaled).ToString(CultureInfo.InvariantCulture).Length > 34) return "a decimal beyond 34 digits";
        if (n.Entries is { } entries && entries.Any(e => KeyText(e.Key).Contains('\0'))) return "a NUL in a key";
        if (HasLoneSurrogate(n)) return "a lone surrogate has no UTF-8 form (not in the loss text)";
        return null;
    }

    public override List<Node> Expect(IReadOnlyList<Node> roots)
    {
        // A top-level list is one document per item.
        var docs = roots.SelectMany(r => r.IsList ? r.Items! : new List<Node> { r }).ToList();
        return base.Expect(docs);
    }

    protected override Node Scalar(Node n)
    {
        switch (n.Value)
        {
            case Timestamp t:
            {
                long ms = Math.DivRem(t.Nanoseconds, 1_000_000, out _);
                return Node.Timestamp(new Timestamp(t.UnixSeconds, (int)ms * 1_000_000, 0));
            }
            case DateOnly d:
                return Node.Timestamp(new Timestamp((d.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber) * 86400L, 0, 0));
            case TimeOnly t:
                // docs/formats/bson.md says HH:mm:ss.fffffff; the writer drops trailing zeros (as the other formats do).
                return Node.String(TimeText(t));
            default:
                return Untagged(n);
        }
    }

    protected override Node Key(Node k) => Node.String(KeyText(k));
    protected override string? ListTag(string? tag) => null;
    protected override string? MapTag(string? tag) => null;
}
