using Xunit;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Brine.Model;
using Brine.Tests.Support;
using Xunit.Abstractions;

namespace Brine.Tests.Yaml;

/// <summary>
/// yaml-test-suite (data-2022-01-17): every case's <c>in.yaml</c> must fail when the case has an <c>error</c>
/// file and must read otherwise; where <c>in.json</c> exists, the values must equal it. Each case runs under a
/// timeout so none can hang the run.
/// </summary>
public class YamlTestSuiteTests(ITestOutputHelper output)
{
    /// <summary>Cases Brine gets wrong today, by id, with the reason. A new failure fails the test; so does a fixed one left here.</summary>
    static readonly Dictionary<string, string> KnownFailures = new()
    {
        // The model's map keys are scalars (a list as a key has no place in the tree).
        ["6BFJ"] = "a flow sequence as a map key",
        // YamlDotNet 18.1's parser rejects valid YAML.
        ["4MUZ/02"] = "YamlDotNet: flow mapping key on its own line before ':'",
        ["DK95/04"] = "YamlDotNet: tab after a plain scalar taken as indentation",
        ["JEF9/01"] = "YamlDotNet: literal block of only blank lines with extra spaces",
        ["UKK6/00"] = "YamlDotNet: '-' followed by an empty line at the start",
        ["VJP3/01"] = "YamlDotNet: flow mapping spanning lines with an indented key",
        // YamlDotNet 18.1's parser gives a wrong value.
        ["JEF9/02"] = "YamlDotNet: literal block of blank lines loses its line break",
        ["L24T/01"] = "YamlDotNet: literal block keeps trailing spaces it should drop",
        // YamlDotNet 18.1's parser accepts invalid YAML.
        ["DK95/01"] = "YamlDotNet: tab as indentation inside a double-quoted scalar",
        ["MUS6/00"] = "YamlDotNet: comment without a space after a %YAML directive",
        ["Y79Y/003"] = "YamlDotNet: tab as indentation in a flow sequence",
        ["Y79Y/004"] = "YamlDotNet: tab after '-'",
        ["Y79Y/005"] = "YamlDotNet: tab after '-' with a value",
        ["Y79Y/006"] = "YamlDotNet: tab after '?'",
        ["Y79Y/008"] = "YamlDotNet: tab after ':' of an explicit key",
        ["Y79Y/009"] = "YamlDotNet: tab after '? :'",
    };

    /// <summary>386 of 402 cases pass (96.0%).</summary>
    const int Floor = 386;

    [Fact]
    public void Conformance()
    {
        var root = TestData.Path_("yaml", "yaml-test-suite");
        var cases = Directory.EnumerateFiles(root, "in.yaml", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).Select(d => d!).OrderBy(d => d, StringComparer.Ordinal).ToList();
        Assert.True(cases.Count >= 400, $"only {cases.Count} cases found");
        int passed = 0;
        var failures = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in cases)
        {
            var id = Path.GetRelativePath(root, dir).Replace('\\', '/');
            var task = Task.Run(() => RunCase(dir));
            string? problem = task.Wait(TimeSpan.FromSeconds(10)) ? task.Result : "timed out";
            if (problem is null) passed++;
            else failures[id] = problem;
        }
        output.WriteLine($"yaml-test-suite: {passed}/{cases.Count} cases pass ({100.0 * passed / cases.Count:F1}%)");
        foreach (var (id, why) in failures) output.WriteLine($"  FAIL {id}: {why}");

        var unexpected = failures.Keys.Where(k => !KnownFailures.ContainsKey(k)).ToList();
        var fixedNow = KnownFailures.Keys.Where(k => !failures.ContainsKey(k)).ToList();
        Assert.True(unexpected.Count == 0, "new failures: " + string.Join(", ", unexpected.Select(k => $"{k} ({failures[k]})")));
        Assert.True(fixedNow.Count == 0, "now passing, remove from KnownFailures: " + string.Join(", ", fixedNow));
        Assert.True(passed >= Floor, $"{passed} < floor {Floor}");
    }

    /// <summary>Null when the case passes, else what went wrong.</summary>
    static string? RunCase(string dir)
    {
        bool mustFail = File.Exists(Path.Combine(dir, "error"));
        var yaml = File.ReadAllBytes(Path.Combine(dir, "in.yaml"));
        var jsonPath = Path.Combine(dir, "in.json");
        try
        {
            if (mustFail || !File.Exists(jsonPath))
            {
                // Drain tokens: a value that the tree cannot hold (a map key that is a list) is not a reading failure.
                using var r = YamlHelpers.Format.CreateReader(new MemoryStream(yaml), Formats.ReadOptions.Default);
                while (r.Read()) { }
                return mustFail ? "read without error, expected an error" : null;
            }
            var docs = YamlHelpers.Read(yaml);
            var expected = ParseJsonStream(File.ReadAllBytes(jsonPath));
            if (docs.Count != expected.Count) return $"{docs.Count} documents, in.json has {expected.Count}";
            for (int i = 0; i < docs.Count; i++)
                if (Compare(expected[i], docs[i], "$") is { } diff) return $"document {i}: {diff}";
            return null;
        }
        catch (BrineFormatException e)
        {
            return mustFail ? null : "error: " + e.Message;
        }
        catch (Exception e)
        {
            return $"crash: {e.GetType().Name}: {e.Message}";
        }
    }

    static List<JsonElement> ParseJsonStream(byte[] json)
    {
        var list = new List<JsonElement>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            list.Add(doc.RootElement.Clone());
        }
        return list;
    }

    static string? Compare(JsonElement e, Node n, string path)
    {
        var stack = new Stack<(JsonElement e, Node n, string path)>();
        stack.Push((e, n, path));
        while (stack.Count > 0)
        {
            var (je, node, p) = stack.Pop();
            switch (je.ValueKind)
            {
                case JsonValueKind.Null: if (node.Kind != TokenKind.Null) return $"{p}: expected null, got {node.Kind} {node}"; break;
                case JsonValueKind.True or JsonValueKind.False:
                    if (node.Kind != TokenKind.Bool || (bool)node.Value! != (je.ValueKind == JsonValueKind.True)) return $"{p}: expected {je}, got {node.Kind} {node}";
                    break;
                case JsonValueKind.String:
                    if (node.Kind == TokenKind.Bytes && node.Value is byte[] bytes)
                    {
                        // !!binary is Bytes in the model; in.json holds the base64 text.
                        if (Convert.ToBase64String(bytes) != string.Concat(je.GetString()!.Where(c => !char.IsWhiteSpace(c)))) return $"{p}: bytes differ";
                        break;
                    }
                    if (node.Kind != TokenKind.String || (string)node.Value! != je.GetString()) return $"{p}: expected \"{je.GetString()}\", got {node.Kind} {node}";
                    break;
                case JsonValueKind.Number:
                    if (!NumberEquals(je.GetRawText(), node)) return $"{p}: expected {je.GetRawText()}, got {node.Kind} {node}";
                    break;
                case JsonValueKind.Array:
                {
                    var items = je.EnumerateArray().ToList();
                    if (node.IsMap && node.Tag == "omap")
                    {
                        // !!omap is a map tagged omap in the model; in.json keeps YAML's list of one-entry maps.
                        if (items.Count != node.Entries!.Count) return $"{p}: expected {items.Count} omap entries, got {node.Entries.Count}";
                        for (int i = 0; i < items.Count; i++)
                        {
                            var one = items[i].EnumerateObject().Single();
                            if (KeyText(node.Entries[i].Key) != one.Name) return $"{p}: omap key {i} expected \"{one.Name}\"";
                            stack.Push((one.Value, node.Entries[i].Value, $"{p}.{one.Name}"));
                        }
                        break;
                    }
                    if (!node.IsList) return $"{p}: expected a list, got {node.Kind}";
                    if (items.Count != node.Items!.Count) return $"{p}: expected {items.Count} items, got {node.Items.Count}";
                    for (int i = 0; i < items.Count; i++) stack.Push((items[i], node.Items[i], $"{p}[{i}]"));
                    break;
                }
                case JsonValueKind.Object:
                {
                    var props = je.EnumerateObject().ToList();
                    if (node.IsList && node.Tag == "set")
                    {
                        // !!set is a list tagged set in the model; in.json keeps YAML's map of keys to null.
                        var members = node.Items!.Select(KeyText).ToHashSet();
                        if (props.Count != members.Count || props.Any(pr => pr.Value.ValueKind != JsonValueKind.Null || !members.Contains(pr.Name))) return $"{p}: set differs";
                        break;
                    }
                    if (!node.IsMap) return $"{p}: expected a map, got {node.Kind}";
                    if (props.Count != node.Entries!.Count) return $"{p}: expected {props.Count} entries, got {node.Entries.Count}";
                    // in.json's key order is not always the document's: match by key.
                    var byKey = new Dictionary<string, Node>();
                    foreach (var (k, v) in node.Entries) byKey[KeyText(k)] = v;
                    foreach (var prop in props)
                    {
                        if (!byKey.TryGetValue(prop.Name, out var v)) return $"{p}: missing key \"{prop.Name}\"";
                        stack.Push((prop.Value, v, $"{p}.{prop.Name}"));
                    }
                    break;
                }
            }
        }
        return null;
    }

    static string KeyText(Node k) => k.Value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(k.Value, CultureInfo.InvariantCulture) ?? "",
    };

    static bool NumberEquals(string raw, Node n)
    {
        switch (n.Value)
        {
            case long l: return BigInteger.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bi) ? bi == l : double.Parse(raw, CultureInfo.InvariantCulture) == l;
            case BigInteger b: return BigInteger.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bj) && bj == b;
            case double d: return double.Parse(raw, CultureInfo.InvariantCulture) == d;
            case DecimalNumber m: return DecimalNumber.TryParse(raw, out var x) && x.ValueEquals(m);
            default: return false;
        }
    }
}
