using System.Numerics;
using System.Text;
using Brine.Conversion;
using Brine.Formats;
using Brine.Formats.Xml;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Xml;

public sealed class XmlFormatTests
{
    static readonly XmlFormat Format = new();

    static string Write(Node value, bool keepRefs = false, bool indent = true)
    {
        using var ms = new MemoryStream();
        using (var w = Format.CreateWriter(ms, new WriteOptions { Indent = indent, KeepReferences = keepRefs }))
        {
            TokenPump.WriteNode(value, w, expand: !keepRefs);
            w.Finish();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    static Node Read(string xml, ReadOptions? options = null)
    {
        using var r = Format.CreateReader(new MemoryStream(Encoding.UTF8.GetBytes(xml)), options ?? new ReadOptions());
        var all = NodeBuilder.ReadAll(r);
        return Assert.Single(all);
    }

    static Node Tagged(Node n, string tag) { n.Tag = tag; return n; }

    static Node RichTree() => Node.Map()
        .Add("title", Node.String("Grüße, 世界 ✓ <&> \"quoted\""))
        .Add("count", Node.Int(42))
        .Add("negative", Node.Int(-7))
        .Add("huge", Node.Int(BigInteger.Pow(10, 30)))
        .Add("ratio", Node.Float(0.1))
        .Add("inf", Node.Float(double.NegativeInfinity))
        .Add("price", Node.Decimal(DecimalNumber.Parse("19.990")))
        .Add("yes", Node.Bool(true))
        .Add("nothing", Node.Null())
        .Add("blob", Node.Bytes(new byte[] { 0, 1, 2, 250 }))
        .Add("at", Node.Timestamp(new Timestamp(1_700_000_000, 123_456_789, 120)))
        .Add("day", Node.Date(new DateOnly(2024, 2, 29)))
        .Add("time", Node.Time(new TimeOnly(13, 45, 30, 250)))
        .Add("id", Node.Uuid(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")))
        .Add("empty", Node.String(""))
        .Add("spaces", Node.String("  padded \t and\r\nlines  "))
        .Add("control", Node.String("bell\u0007"))
        .Add("many", Node.List(Node.String("a"), Node.String("b"), Node.String("c")))
        .Add("single", Node.List(Node.Int(1)))
        .Add("none", Node.List())
        .Add("matrix", Node.List(Node.List(Node.Int(1), Node.Int(2)), Node.List(), Node.List(Node.Int(3))))
        .Add("mixed", Node.List(Node.Map().Add("k", Node.String("v")), Node.Null(), Node.String("s")))
        .Add("nested", Node.Map().Add("deeper", Node.Map().Add("deepest", Node.String("x"))))
        .Add("emptyMap", Node.Map())
        .Add("element", Node.Map().Add("@lang", Node.String("en")).Add("@n", Node.String("1")).Add("#text", Node.String("Hello")))
        .Add("textOnly", Node.Map().Add("#text", Node.String("just text")))
        .Add("lateAttribute", Node.Map().Add("child", Node.String("c")).Add("@late", Node.String("l")))
        .Add("my key", Node.String("escaped name"))
        .Add("1st", Node.String("leading digit"))
        .Add("", Node.String("empty key"))
        .Add("@not an attribute", Node.String("space in name"))
        .Add("set", Tagged(Node.List(Node.Int(1), Node.Int(2)), "set"))
        .Add("user", Tagged(Node.Map().Add("name", Node.String("Ann")), "models.User"))
        .Add("taggedString", Tagged(Node.String("x"), "!custom"));

    [Fact]
    public void BrineTreeRoundTripsThroughXml()
    {
        var tree = RichTree();
        var xml = Write(tree);
        var back = Read(xml);
        Assert.Null(NodeComparer.Difference(tree, back));
        // Not indented, too.
        Assert.Null(NodeComparer.Difference(tree, Read(Write(tree, indent: false))));
    }

    [Fact]
    public void TopLevelListsScalarsAndTagsRoundTrip()
    {
        foreach (var value in new[]
        {
            Node.List(Node.Map().Add("a", Node.Int(1)), Node.Map().Add("a", Node.Int(2))),
            Node.List(),
            Node.String("plain"),
            Node.Int(5),
            Node.Null(),
            Node.Map(),
            Tagged(Node.Map().Add("x", Node.Int(1)), "models.Point"),
            Tagged(Node.Map().Add("x", Node.Int(1)), "root"),
            Tagged(Node.List(Node.Int(1)), "tuple"),
        })
        {
            var back = Read(Write(value));
            Assert.Null(NodeComparer.Difference(value, back));
        }
    }

    [Fact]
    public void SharedNodesAndCyclesSurviveAsIdAndRef()
    {
        var shared = Node.Map().Add("name", Node.String("shared"));
        var root = Node.Map().Add("a", shared).Add("b", Node.List(shared, shared));
        root.Add("self", root);
        var xml = Write(root, keepRefs: true);
        Assert.Contains("ref=\"", xml);
        var back = Read(xml);
        Assert.Same(back["a"], back["b"]![0]);
        Assert.Same(back["a"], back["b"]![1]);
        Assert.Same(back, back["self"]);
    }

    [Fact]
    public void SampleIdRefBuildsAGraphWithSharedDays()
    {
        var program = Converter.ReadNodes(TestData.Samples("training.xml")).Single();
        Assert.Null(program.Tag);
        var days = program["days"]!.Items!;
        Assert.Equal(3, days.Count);
        var week1 = program["schedule"]![0]["sessions"]!.Items!;
        Assert.Same(days[0], week1[0]["day"]);
        Assert.Same(days[2], week1[2]["day"]);
        Assert.Same(days[1], program["schedule"]![1]["sessions"]![1]["day"]);
        Assert.Single(program["exercises"]![4]["equipment"]!.Items!);
        // The YAML sample is the same graph, with anchors.
        var yaml = Converter.ReadNodes(TestData.Samples("training.yaml")).Single();
        Assert.Null(NodeComparer.Difference(program, yaml));
        // The BSON sample is the same program with the references expanded.
        var bson = Converter.ReadNodes(TestData.Samples("training.bson")).Single();
        Assert.Null(NodeComparer.Difference(program, bson, new NodeComparer.Options { CompareTags = false }));
    }

    [Fact]
    public void ForeignXmlMapsAttributesRepeatsAndMixedText()
    {
        var n = Read("""
            <catalog>
              <book lang="en" id="b1"><title>Dune</title><year>1965</year></book>
              <book lang="fr"><title>Vendredi</title></book>
              <note>Hello <b>bold</b> world</note>
              <empty/>
            </catalog>
            """);
        Assert.Null(n.Tag); // a root element name is not a type
        var books = n["book"]!;
        Assert.True(books.IsList);
        Assert.Equal("en", books[0]["@lang"]!.AsString);
        Assert.Equal("1965", books[0]["year"]!.AsString);
        Assert.Equal("Vendredi", books[1]["title"]!.AsString);
        var note = n["note"]!;
        Assert.Equal("Hello ", note.Entries![0].Value.AsString);
        Assert.Equal("#text", note.Entries![0].Key.AsString);
        Assert.Equal("bold", note["b"]!.AsString);
        Assert.Equal(" world", note.Entries![2].Value.AsString);
        Assert.Equal("", n["empty"]!.AsString);
        // With refs=off, id is an ordinary attribute.
        var plain = Read("<r><x id=\"7\">a</x></r>", new ReadOptions { Settings = new Dictionary<string, string> { ["refs"] = "off" } });
        Assert.Equal("7", plain["x"]!["@id"]!.AsString);
    }

    [Theory]
    [InlineData("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>")]
    [InlineData("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><lolz>&lol3;</lolz>")]
    [InlineData("<!DOCTYPE x SYSTEM \"http://example.invalid/x.dtd\"><x/>")]
    public void DtdsAreRefused(string xml)
    {
        var e = Assert.Throws<BrineFormatException>(() => Read(xml));
        Assert.Contains("DTDs are not processed", e.Message);
    }

    [Fact]
    public void MalformedXmlNamesLineAndColumn()
    {
        var e = Assert.Throws<BrineFormatException>(() => Read("<a>\n  <b>1</c>\n</a>"));
        Assert.StartsWith("xml: line 2, column", e.Message);
        var typed = Assert.Throws<BrineFormatException>(() => Read("<a xmlns:b=\"urn:brine:xml\">\n<n b:type=\"int\">x1</n></a>"));
        Assert.Contains("line 2", typed.Message);
        Assert.Contains("b:type=\"int\"", typed.Message);
    }

    [Fact]
    public void PythonElementTreeParsesBrinesOutput()
    {
        var xml = Write(RichTree());
        var result = Python.Run("""
            import sys, xml.etree.ElementTree as ET
            root = ET.fromstring(sys.stdin.buffer.read())
            print(root.tag, len(root), root.find("title").text)
            """, Encoding.UTF8.GetBytes(xml));
        Assert.StartsWith("root ", result);
        Assert.Contains("Grüße, 世界 ✓ <&> \"quoted\"", result);
    }

    [Fact]
    public void ReadingAListOfRecordsStreams()
    {
        // 50,000 records (~3 MB); the first records must come out after reading only the start of the input.
        var stream = new CountingStream(GenerateUsers(50_000));
        using var r = Format.CreateReader(stream, new ReadOptions());
        long tokens = 0, records = 0, bytesAtFirstRecords = -1;
        int depth = 0;
        while (r.Read())
        {
            if (++tokens == 40) bytesAtFirstRecords = stream.BytesRead;
            if (r.Kind.IsStart()) depth++;
            else if (r.Kind.IsEnd()) { if (depth == 3 && r.Kind == TokenKind.EndMap) records++; depth--; }
        }
        Assert.InRange(bytesAtFirstRecords, 1, 256 * 1024);
        Assert.Equal(50_000, records);
    }

    static IEnumerable<byte[]> GenerateUsers(int n)
    {
        yield return "<users>\n"u8.ToArray();
        for (int i = 0; i < n; i++) yield return Encoding.UTF8.GetBytes($"  <user><id>{i}</id><name>user {i}</name><email>u{i}@example.com</email></user>\n");
        yield return "</users>\n"u8.ToArray();
    }

    /// <summary>A forward-only stream over generated chunks that counts what was read.</summary>
    sealed class CountingStream(IEnumerable<byte[]> chunks) : Stream
    {
        readonly IEnumerator<byte[]> _chunks = chunks.GetEnumerator();
        byte[] _current = Array.Empty<byte>();
        int _pos;
        public long BytesRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_pos >= _current.Length) { if (!_chunks.MoveNext()) return 0; _current = _chunks.Current; _pos = 0; }
            int k = Math.Min(count, _current.Length - _pos);
            Array.Copy(_current, _pos, buffer, offset, k);
            _pos += k; BytesRead += k;
            return k;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void SecondTopLevelValueIsRefused()
    {
        using var ms = new MemoryStream();
        using var w = Format.CreateWriter(ms, new WriteOptions());
        w.WriteInt(1);
        var e = Assert.Throws<BrineFormatException>(() => w.WriteInt(2));
        Assert.Contains("one top-level value", e.Message);
    }
}
