using Brine.Conversion;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Interop;

/// <summary>The bundled training program converts among every tree format, checked against Python's libraries.</summary>
public class TrainingSampleTests
{
    [Fact]
    public void Yaml_to_json_equals_PyYAML_safe_load()
    {
        using var dir = new TempDir();
        var json = dir.File("training.json");
        Converter.Convert(TestData.Samples("training.yaml"), json);
        // JSON has no timestamps: Brine writes RFC 3339 text, so the oracle's datetimes are compared as that text.
        var result = Python.Run("""
import sys, json, yaml, datetime
def norm(v):
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    if isinstance(v, dict): return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list): return [norm(x) for x in v]
    return v
want = norm(yaml.safe_load(open(sys.argv[1])))
got = json.load(open(sys.argv[2]))
print('equal' if want == got else f'differ:\n{want}\n{got}')
""", null, TestData.Samples("training.yaml"), json);
        Assert.Equal("equal", result.Trim());
    }

    [Theory]
    [InlineData("json")]
    [InlineData("jsonl")]
    [InlineData("yaml")]
    [InlineData("xml")]
    [InlineData("bson")]
    [InlineData("msgpack")]
    [InlineData("cbor")]
    [InlineData("pickle")]
    public void The_program_survives_every_tree_format(string format)
    {
        using var dir = new TempDir();
        var source = Converter.ReadNodes(TestData.Samples("training.yaml")).Single();
        var output = dir.File("training." + format);
        Converter.Convert(TestData.Samples("training.yaml"), output, new ConvertOptions { To = format });
        var back = Converter.ReadNodes(output, format).Single();
        // Formats without a timestamp type carry "created" as RFC 3339 text; everything else is equal.
        var expected = source;
        if (format is "json" or "jsonl")
        {
            expected = Converter.ReadNodes(TestData.Samples("training.yaml")).Single();
            var meta = expected["metadata"]!;
            int i = meta.Entries!.FindIndex(e => e.Key.AsString == "created");
            meta.Entries[i] = new(meta.Entries[i].Key, Node.String(((Timestamp)meta.Entries[i].Value.Value!).ToString()));
        }
        Assert.Null(NodeComparer.Difference(expected, back));
        // Formats with references keep the days shared; the others hold copies.
        bool shared = ReferenceEquals(back["days"]![0], back["schedule"]![0]["sessions"]![0]["day"]);
        Assert.Equal(format is "yaml" or "pickle" or "cbor", shared);
    }

    [Fact]
    public void Xml_id_ref_becomes_yaml_anchors_and_aliases()
    {
        using var dir = new TempDir();
        var yaml = dir.File("training.yaml");
        Converter.Convert(TestData.Samples("training.xml"), yaml);
        var text = File.ReadAllText(yaml);
        Assert.Contains("&day1", text);
        Assert.Contains("*day1", text);
        var same = Python.Run("import sys, yaml\nd = yaml.safe_load(open(sys.argv[1]))\nprint(d['schedule'][0]['sessions'][0]['day'] is d['days'][0])", null, yaml).Trim();
        Assert.Equal("True", same);
    }
}
