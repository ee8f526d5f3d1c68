using Xunit;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Brine.Formats.MessagePack;
using Brine.Model;
using Brine.Tests.Support;
using Xunit.Abstractions;

namespace Brine.Tests.MessagePack;

/// <summary>
/// kawanet/msgpack-test-suite: every listed encoding must decode to the value, and encoding the value must
/// give one of the listed encodings.
/// </summary>
public class MessagePackSuiteTests(ITestOutputHelper output)
{
    static readonly MessagePackFormat Format = new();

    /// <summary>Cases that fail today, by "group #index (direction)". A new failure fails the test; a fixed one should be removed.</summary>
    static readonly HashSet<string> KnownFailures = new()
    {
    };

    [Fact]
    public void Suite()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Path_("msgpack", "msgpack-test-suite.json")));
        int total = 0, passed = 0;
        var failures = new List<string>();
        foreach (var group in doc.RootElement.EnumerateObject())
        {
            int index = 0;
            foreach (var entry in group.Value.EnumerateArray())
            {
                var name = $"{group.Name} #{index++}";
                var expected = ExpectedValue(entry);
                var encodings = entry.GetProperty("msgpack").EnumerateArray().Select(e => e.GetString()!.Replace("-", "")).ToList();
                foreach (var hex in encodings)
                {
                    total++;
                    string? problem;
                    try
                    {
                        var got = BinaryCodec.Decode(Format, BinaryCodec.Hex(hex));
                        problem = got.Count != 1 ? $"{got.Count} values" : NodeComparer.Difference(expected, got[0], new NodeComparer.Options { NumbersByValue = true });
                    }
                    catch (BrineException e) { problem = e.Message; }
                    if (problem is null) passed++; else failures.Add($"{name} (decode {hex}): {problem}");
                }
                total++;
                var encoded = BinaryCodec.ToHex(BinaryCodec.Encode(Format, expected));
                if (encodings.Contains(encoded)) passed++; else failures.Add($"{name} (encode): got {encoded}, expected one of {string.Join(", ", encodings)}");
            }
        }
        output.WriteLine($"msgpack-test-suite: {passed}/{total} checks passed ({100.0 * passed / total:F1}%)");
        foreach (var f in failures) output.WriteLine("  FAIL " + f);
        var unexpected = failures.Where(f => !KnownFailures.Contains(f[..f.IndexOf(')')] + ")")).ToList();
        Assert.True(unexpected.Count == 0, "unexpected failures:\n" + string.Join("\n", unexpected));
        Assert.True(total >= 200, $"only {total} checks found");
    }

    /// <summary>The suite's value for an entry as a Brine tree.</summary>
    static Node ExpectedValue(JsonElement entry)
    {
        if (entry.TryGetProperty("bignum", out var big)) return Node.Int(BigInteger.Parse(big.GetString()!, CultureInfo.InvariantCulture));
        foreach (var p in entry.EnumerateObject())
        {
            switch (p.Name)
            {
                case "nil": return Node.Null();
                case "bool": return Node.Bool(p.Value.GetBoolean());
                case "binary": return Node.Bytes(BinaryCodec.Hex(p.Value.GetString()!));
                case "number": case "string": case "array": case "map": return FromJson(p.Value);
                case "timestamp": return Node.Timestamp(new Timestamp(p.Value[0].GetInt64(), p.Value[1].GetInt32(), 0));
                case "ext":
                {
                    var n = Node.Bytes(BinaryCodec.Hex(p.Value[1].GetString()!));
                    n.Tag = MessagePackFormat.ExtTagPrefix + p.Value[0].GetInt32();
                    return n;
                }
            }
        }
        throw new InvalidDataException("entry without a value: " + entry);
    }

    static Node FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                return e.TryGetInt64(out long l) && !e.GetRawText().Contains('.') ? Node.Int(l) : Node.Float(e.GetDouble());
            case JsonValueKind.String: return Node.String(e.GetString()!);
            case JsonValueKind.True: return Node.Bool(true);
            case JsonValueKind.False: return Node.Bool(false);
            case JsonValueKind.Null: return Node.Null();
            case JsonValueKind.Array:
            {
                var list = Node.List();
                foreach (var item in e.EnumerateArray()) list.Add(FromJson(item));
                return list;
            }
            default:
            {
                var map = Node.Map();
                foreach (var p in e.EnumerateObject()) map.Add(p.Name, FromJson(p.Value));
                return map;
            }
        }
    }
}
