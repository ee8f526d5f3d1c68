using Xunit;
using System.Text;
using Brine.Formats;
using Brine.Formats.Json;
using Brine.Model;

namespace Brine.Tests.Json;

/// <summary>Reading and writing JSON in memory for the tests.</summary>
internal static class JsonText
{
    public static readonly JsonFormat Json = new();
    public static readonly JsonLinesFormat Lines = new();

    public static List<Node> Read(byte[] bytes, bool lines = false, ReadOptions? options = null)
    {
        using var r = (lines ? (Format)Lines : Json).CreateReader(new MemoryStream(bytes), options ?? ReadOptions.Default);
        return NodeBuilder.ReadAll(r);
    }

    public static List<Node> Read(string text, bool lines = false, ReadOptions? options = null) =>
        Read(Encoding.UTF8.GetBytes(text), lines, options);

    public static Node ReadOne(string text, ReadOptions? options = null) => Assert.Single(Read(text, options: options));

    public static byte[] WriteBytes(IEnumerable<Node> nodes, WriteOptions? options = null, bool lines = false)
    {
        options ??= WriteOptions.Default;
        var ms = new MemoryStream();
        using (var w = (lines ? (Format)Lines : Json).CreateWriter(ms, options))
        {
            using var r = new NodeReader(nodes, expand: !options.KeepReferences);
            TokenPump.Copy(r, w);
            w.Finish();
        }
        return ms.ToArray();
    }

    public static string Write(IEnumerable<Node> nodes, WriteOptions? options = null, bool lines = false) =>
        Encoding.UTF8.GetString(WriteBytes(nodes, options, lines));

    public static string Write(Node node, WriteOptions? options = null) => Write(new[] { node }, options);

    public static WriteOptions Compact => new() { Indent = false };
    public static WriteOptions KeepRefs => new() { Indent = false, KeepReferences = true };

    public static Dictionary<string, string> Settings(params (string, string)[] pairs) => pairs.ToDictionary(p => p.Item1, p => p.Item2);
}
