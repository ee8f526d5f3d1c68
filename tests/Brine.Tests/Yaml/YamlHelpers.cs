using Xunit;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Brine.Formats;
using Brine.Formats.Yaml;
using Brine.Model;

namespace Brine.Tests.Yaml;

static class YamlHelpers
{
    public static readonly YamlFormat Format = new();

    public static List<Node> Read(string yaml) => Read(Encoding.UTF8.GetBytes(yaml));

    public static List<Node> Read(byte[] yaml)
    {
        using var r = Format.CreateReader(new MemoryStream(yaml), ReadOptions.Default);
        return NodeBuilder.ReadAll(r);
    }

    public static Node ReadOne(string yaml) => Assert.Single(Read(yaml));

    /// <summary>All tokens of a stream, for checks below the tree (aliases, anchors).</summary>
    public static List<(TokenKind kind, string? tag, string? anchor, string? text)> Tokens(string yaml)
    {
        using var r = Format.CreateReader(new MemoryStream(Encoding.UTF8.GetBytes(yaml)), ReadOptions.Default);
        var list = new List<(TokenKind, string?, string?, string?)>();
        while (r.Read()) list.Add((r.Kind, r.Tag, r.Anchor, r.Kind is TokenKind.String or TokenKind.Alias ? r.StringValue : null));
        return list;
    }

    public static string Write(params Node[] nodes) => Write((IEnumerable<Node>)nodes);

    public static string Write(IEnumerable<Node> nodes)
    {
        var ms = new MemoryStream();
        using (var w = Format.CreateWriter(ms, WriteOptions.Default))
        {
            using var r = new NodeReader(nodes);
            TokenPump.Copy(r, w);
            w.Finish();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>
    /// The canonical form both this tree and the Python oracle are reduced to (see <see cref="PyNormalize"/>):
    /// ints as text, floats as IEEE bits, maps as objects keyed by their key's canonical text, objects by class.
    /// </summary>
    public static JsonNode? Canonical(Node n) => Canonical(n, new HashSet<Node>(ReferenceEqualityComparer.Instance));

    static JsonNode? Canonical(Node n, HashSet<Node> open)
    {
        switch (n.Kind)
        {
            case TokenKind.Null: return null;
            case TokenKind.Bool: return JsonValue.Create((bool)n.Value!);
            case TokenKind.Int: return new JsonObject { ["int"] = n.Value is long l ? l.ToString(CultureInfo.InvariantCulture) : ((BigInteger)n.Value!).ToString(CultureInfo.InvariantCulture) };
            case TokenKind.Float: return new JsonObject { ["float"] = FloatBits((double)n.Value!) };
            case TokenKind.Decimal: return new JsonObject { ["float"] = FloatBits(((DecimalNumber)n.Value!).ToDouble()) };
            case TokenKind.String: return JsonValue.Create((string)n.Value!);
            case TokenKind.Bytes: return new JsonObject { ["bytes"] = Convert.ToBase64String((byte[])n.Value!) };
            case TokenKind.Date: return new JsonObject { ["date"] = ((DateOnly)n.Value!).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
            case TokenKind.Timestamp: return new JsonObject { ["ts"] = PyIso((Timestamp)n.Value!) };
            case TokenKind.StartList:
            {
                if (!open.Add(n)) return new JsonObject { ["cycle"] = true };
                JsonNode? result;
                if (n.Tag == "set")
                {
                    var keys = n.Items!.Select(i => KeyText(Canonical(i, open))).OrderBy(s => s, StringComparer.Ordinal);
                    result = new JsonObject { ["set"] = new JsonArray(keys.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray()) };
                }
                else
                {
                    var arr = new JsonArray(n.Items!.Select(i => Canonical(i, open)).ToArray());
                    result = n.Tag == "tuple" ? new JsonObject { ["tuple"] = arr } : arr;
                }
                open.Remove(n);
                return result;
            }
            case TokenKind.StartMap:
            {
                if (!open.Add(n)) return new JsonObject { ["cycle"] = true };
                var obj = new JsonObject();
                foreach (var (k, v) in n.Entries!) obj[KeyText(Canonical(k, open))] = Canonical(v, open);
                open.Remove(n);
                return n.Tag is { } t ? new JsonObject { ["obj"] = t, ["state"] = obj } : obj;
            }
            default: return JsonValue.Create(n.ToString());
        }
    }

    static string KeyText(JsonNode? key) => key is JsonValue v && v.TryGetValue<string>(out var s) ? "s:" + s : "j:" + (key?.ToJsonString() ?? "null");

    static string FloatBits(double d) => double.IsNaN(d) ? "nan" : BitConverter.DoubleToInt64Bits(d).ToString("x16");

    /// <summary>Python's datetime.isoformat(): microseconds when not zero, offset when aware.</summary>
    static string PyIso(Timestamp t)
    {
        var d = DateTimeOffset.UnixEpoch.AddSeconds(t.UnixSeconds).ToOffset(TimeSpan.FromMinutes(t.OffsetMinutes ?? 0));
        var s = d.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        int micros = t.Nanoseconds / 1000;
        if (micros != 0) s += "." + micros.ToString("D6", CultureInfo.InvariantCulture);
        if (t.OffsetMinutes is { } m) s += (m < 0 ? "-" : "+") + Math.Abs(m / 60).ToString("D2") + ":" + Math.Abs(m % 60).ToString("D2");
        return s;
    }

    /// <summary>Python code that reduces loaded data to the form of <see cref="Canonical"/> (prints one JSON line a document).</summary>
    public const string PyNormalize = """
import sys, json, yaml, base64, datetime, struct, types, math
models = types.ModuleType('models')
class User:
    pass
User.__module__ = 'models'
models.User = User
sys.modules['models'] = models
def keytext(c):
    return 's:' + c if isinstance(c, str) else 'j:' + json.dumps(c, separators=(',', ':'))
def canon(o, open_=None):
    open_ = open_ if open_ is not None else set()
    if o is None or isinstance(o, (bool, str)): return o
    if isinstance(o, int): return {'int': str(o)}
    if isinstance(o, float): return {'float': 'nan' if math.isnan(o) else struct.pack('>d', o).hex()}
    if isinstance(o, bytes): return {'bytes': base64.b64encode(o).decode()}
    if isinstance(o, datetime.datetime): return {'ts': o.isoformat()}
    if isinstance(o, datetime.date): return {'date': o.isoformat()}
    if id(o) in open_: return {'cycle': True}
    open_.add(id(o))
    try:
        if isinstance(o, (set, frozenset)): return {'set': sorted(keytext(canon(i, open_)) for i in o)}
        if isinstance(o, tuple): return {'tuple': [canon(i, open_) for i in o]}
        if isinstance(o, list): return [canon(i, open_) for i in o]
        if isinstance(o, dict): return {keytext(canon(k, open_)): canon(v, open_) for k, v in o.items()}
        cls = type(o)
        return {'obj': cls.__module__ + '.' + cls.__qualname__, 'state': {keytext(k): canon(v, open_) for k, v in vars(o).items()}}
    finally:
        open_.discard(id(o))
""";

    /// <summary>Loads stdin with PyYAML (<paramref name="loader"/>: safe_load_all or Loader) and prints canonical JSON lines.</summary>
    public static List<JsonNode?> PyLoad(string yaml, bool unsafeLoader = false)
    {
        var script = PyNormalize + (unsafeLoader
            ? "\nfor d in yaml.load_all(sys.stdin.read(), Loader=yaml.Loader): print(json.dumps(canon(d)))\n"
            : "\nfor d in yaml.safe_load_all(sys.stdin.read()): print(json.dumps(canon(d)))\n");
        var output = Support.Python.Run(script, Encoding.UTF8.GetBytes(yaml));
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)).ToList();
    }

    public static void AssertSameAsPython(IReadOnlyList<Node> ours, IReadOnlyList<JsonNode?> python, string context)
    {
        Assert.True(ours.Count == python.Count, $"{context}: {ours.Count} documents, PyYAML {python.Count}");
        for (int i = 0; i < ours.Count; i++)
        {
            var mine = Canonical(ours[i]);
            Assert.True(JsonNode.DeepEquals(mine, python[i]), $"{context}: document {i}\n brine:  {mine?.ToJsonString()}\n pyyaml: {python[i]?.ToJsonString()}");
        }
    }
}
