using System.Text.Json.Nodes;
using Brine.Conversion;
using Brine.Model;
using Brine.Tests.Cli;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Interop;

/// <summary>
/// Python-written object graphs through `brine convert`: pickle → JSON gives what jsonpickle.encode gives,
/// and pickle → YAML gives what PyYAML reads back as the same objects.
/// </summary>
public class SnapshotInteropTests
{
    // A module of dataclasses written beside the pickle, so Python can load the objects back.
    const string Models = """
from dataclasses import dataclass, field
@dataclass
class Address:
    city: str
    zip: str
@dataclass
class User:
    id: int
    name: str
    email: str
    language: str
    address: Address = None
    tags: tuple = ()
""";

    const string MakeUsers = """
import sys, pickle, jsonpickle, json
sys.path.insert(0, sys.argv[1])
from models import User, Address
home = Address('Paris', '75001')
users = [User(1, 'Ana', 'ana@example.com', 'es', home, ('admin', 'beta')),
         User(2, 'Ben', 'ben@example.com', 'en', home, ()),
         User(3, 'Chloé', 'chloe@example.com', 'fr', Address('Lyon', '69001'), ('vip',))]
open(sys.argv[2], 'wb').write(pickle.dumps(users, protocol=int(sys.argv[4])))
open(sys.argv[3], 'w').write(jsonpickle.encode(users))
""";

    static (TempDir dir, string pkl, string expectedJson) Write(int protocol)
    {
        var dir = new TempDir();
        File.WriteAllText(dir.File("models.py"), Models);
        var pkl = dir.File("users.pkl");
        var expected = dir.File("expected.json");
        Python.Run(MakeUsers, null, dir.Path, pkl, expected, protocol.ToString());
        return (dir, pkl, expected);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    public void Pickled_dataclasses_convert_to_what_jsonpickle_encode_gives(int protocol)
    {
        var (dir, pkl, expected) = Write(protocol);
        using var _ = dir;
        var output = dir.File("users.json");
        var (code, _, stderr) = BrineProcess.Run("convert", pkl, output, "--refs", "keep");
        Assert.True(code == 0, stderr);
        var want = JsonNode.Parse(File.ReadAllText(expected));
        var got = JsonNode.Parse(File.ReadAllText(output));
        Assert.True(JsonNode.DeepEquals(want, got), $"jsonpickle: {want!.ToJsonString()}\nbrine:      {got!.ToJsonString()}");
    }

    [Fact]
    public void Without_sharing_the_default_conversion_already_equals_jsonpickle()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("models.py"), Models);
        var pkl = dir.File("u.pkl");
        var expected = dir.File("expected.json");
        Python.Run("""
import sys, pickle, jsonpickle
sys.path.insert(0, sys.argv[1])
from models import User, Address
users = [User(1, 'Ana', 'ana@example.com', 'es', Address('Madrid', '28001'), ('admin',)),
         User(2, 'Ben', 'ben@example.com', 'en', Address('Leeds', 'LS1'), ())]
open(sys.argv[2], 'wb').write(pickle.dumps(users))
open(sys.argv[3], 'w').write(jsonpickle.encode(users))
""", null, dir.Path, pkl, expected);
        var output = dir.File("u.json");
        var (code, _, stderr) = BrineProcess.Run("convert", pkl, output);
        Assert.True(code == 0, stderr);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(expected)), JsonNode.Parse(File.ReadAllText(output))));
    }

    [Fact]
    public void Brine_json_and_yaml_of_a_pickle_load_in_Python_as_equal_objects_with_identity()
    {
        var (dir, pkl, _) = Write(4);
        using var _d = dir;
        var json = dir.File("users.json");
        var yaml = dir.File("users.yaml");
        Converter.Convert(pkl, json, new ConvertOptions { Refs = RefsMode.Keep });
        Converter.Convert(pkl, yaml);
        var result = Python.Run("""
import sys, pickle, jsonpickle, yaml
sys.path.insert(0, sys.argv[1])
import models
src = pickle.load(open(sys.argv[2], 'rb'))
a = jsonpickle.decode(open(sys.argv[3]).read())
b = yaml.load(open(sys.argv[4]), Loader=yaml.Loader)
for got in (a, b):
    assert got == src, (got, src)
    assert got[0].address is got[1].address
print('ok')
""", null, dir.Path, pkl, json, yaml);
        Assert.Equal("ok", result.Trim());
        Assert.Contains("!!python/object:models.User", File.ReadAllText(yaml));
    }

    [Fact]
    public void Jsonpickle_output_converts_back_to_a_pickle_Python_loads()
    {
        var (dir, pkl, expected) = Write(4);
        using var _d = dir;
        var back = dir.File("back.pkl");
        Converter.Convert(expected, back);
        var result = Python.Run("""
import sys, pickle
sys.path.insert(0, sys.argv[1])
import models
src = pickle.load(open(sys.argv[2], 'rb'))
got = pickle.load(open(sys.argv[3], 'rb'))
assert got == src, (got, src)
assert got[0].address is got[1].address
print('ok')
""", null, dir.Path, pkl, back);
        Assert.Equal("ok", result.Trim());
    }
}
