using System.Text;
using Brine.Formats;
using Brine.Formats.Bson;
using Brine.Conversion;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Bson;

public sealed class BsonFormatTests
{
    static readonly BsonFormat Format = new();

    static byte[] Write(params Node[] values)
    {
        using var ms = new MemoryStream();
        using (var w = Format.CreateWriter(ms, new WriteOptions()))
        {
            foreach (var v in values) TokenPump.WriteNode(v, w, expand: true);
            w.Finish();
        }
        return ms.ToArray();
    }

    static List<Node> Read(byte[] data)
    {
        using var r = Format.CreateReader(new MemoryStream(data), new ReadOptions());
        return NodeBuilder.ReadAll(r);
    }

    static Node Sample()
    {
        var user = Node.Map()
            .Add("name", Node.String("Zoë ✓"))
            .Add("age", Node.Int(42))
            .Add("big", Node.Int(5_000_000_000))
            .Add("score", Node.Float(1.5))
            .Add("price", Node.Decimal(DecimalNumber.Parse("12.50")))
            .Add("active", Node.Bool(true))
            .Add("nothing", Node.Null())
            .Add("blob", Node.Bytes(new byte[] { 0, 1, 2, 255 }))
            .Add("id", Node.Uuid(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")))
            .Add("when", Node.Timestamp(Timestamp.FromUnixMilliseconds(1_700_000_000_123)))
            .Add("tags", Node.List(Node.String("a"), Node.String("b")))
            .Add("nested", Node.Map().Add("deep", Node.List(Node.Map().Add("x", Node.Int(-1)))));
        var oid = Node.String("65a1b2c3d4e5f60718293a4b"); oid.Tag = BsonTags.ObjectId;
        user.Add("_id", oid);
        return user;
    }

    [Fact]
    public void RoundTripsThroughBrine()
    {
        var data = Write(Sample());
        var back = Read(data);
        Assert.Single(back);
        Assert.Null(NodeComparer.Difference(Sample(), back[0]));
    }

    [Fact]
    public void PythonReadsWhatBrineWrites()
    {
        var data = Write(Sample(), Node.Map().Add("second", Node.Int(2)));
        var text = Python.Run("""
            import sys, bson, json, datetime, uuid, decimal
            from bson.codec_options import CodecOptions
            from bson.binary import UuidRepresentation
            docs = bson.decode_all(sys.stdin.buffer.read(), CodecOptions(uuid_representation=UuidRepresentation.STANDARD))
            d = docs[0]
            assert d["name"] == "Zoë ✓", d["name"]
            assert d["age"] == 42 and type(d["age"]) is int
            assert d["big"] == 5000000000
            assert d["score"] == 1.5
            assert d["price"].to_decimal() == decimal.Decimal("12.50")
            assert d["active"] is True and d["nothing"] is None
            assert d["blob"] == b"\x00\x01\x02\xff"
            assert d["id"] == uuid.UUID("00112233-4455-6677-8899-aabbccddeeff"), d["id"]
            assert d["when"] == datetime.datetime(2023, 11, 14, 22, 13, 20, 123000), d["when"]
            assert d["tags"] == ["a", "b"]
            assert d["nested"] == {"deep": [{"x": -1}]}
            assert str(d["_id"]) == "65a1b2c3d4e5f60718293a4b" and type(d["_id"]).__name__ == "ObjectId"
            assert docs[1] == {"second": 2}
            print(len(docs))
            """, data);
        Assert.Equal("2", text.Trim());
    }

    [Fact]
    public void BrineReadsWhatPythonWrites()
    {
        var data = Python.RunBytes("""
            import sys, bson, datetime, uuid, re
            from bson.binary import Binary, UuidRepresentation
            from bson.int64 import Int64
            from bson.decimal128 import Decimal128
            from bson.objectid import ObjectId
            from bson.regex import Regex
            from bson.codec_options import CodecOptions
            opts = CodecOptions(uuid_representation=UuidRepresentation.STANDARD)
            out = bson.encode({"s": "héllo", "i": 7, "l": Int64(7), "f": 0.25, "d": Decimal128("1.10"),
                               "b": b"\x01\x02", "u": uuid.UUID("12345678-1234-5678-1234-567812345678"),
                               "t": datetime.datetime(2020, 1, 2, 3, 4, 5, 678000), "n": None, "ok": False,
                               "oid": ObjectId("0123456789abcdef01234567"), "re": Regex("^a.*", "i"),
                               "arr": [1, [2, {"k": "v"}]]}, codec_options=opts)
            out += bson.encode({"second": True})
            sys.stdout.buffer.write(out)
            """);
        var docs = Read(data);
        Assert.Equal(2, docs.Count);
        var d = docs[0];
        Assert.Equal("héllo", d["s"]!.AsString);
        Assert.Equal(7L, d["i"]!.Value);
        Assert.Null(d["i"]!.Tag);
        Assert.Equal(BsonTags.Int64, d["l"]!.Tag);
        Assert.Equal(0.25, d["f"]!.Value);
        Assert.Equal(DecimalNumber.Parse("1.10"), d["d"]!.Value);
        Assert.Equal(new byte[] { 1, 2 }, (byte[])d["b"]!.Value!);
        Assert.Equal(Guid.Parse("12345678-1234-5678-1234-567812345678"), d["u"]!.Value);
        Assert.Equal("2020-01-02T03:04:05.678Z", d["t"]!.Value!.ToString());
        Assert.Equal(TokenKind.Null, d["n"]!.Kind);
        Assert.Equal(false, d["ok"]!.Value);
        Assert.Equal("0123456789abcdef01234567", d["oid"]!.AsString);
        Assert.Equal(BsonTags.ObjectId, d["oid"]!.Tag);
        Assert.Equal(BsonTags.Regex, d["re"]!.Tag);
        Assert.Equal("^a.*", d["re"]!["pattern"]!.AsString);
        Assert.Equal("v", d["arr"]![1][1]["k"]!.AsString);
        Assert.Equal(true, docs[1]["second"]!.Value);
        // And back: Brine's bytes equal Python's.
        Assert.Equal(Convert.ToHexString(data), Convert.ToHexString(Write(docs.ToArray())));
    }

    [Fact]
    public void TruncatedInputNamesTheByteOffset()
    {
        var data = Write(Node.Map().Add("a", Node.String("hello")), Node.Map().Add("b", Node.Int(1)));
        var cut = data[..^3];
        var e = Assert.Throws<BrineFormatException>(() => Read(cut));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("byte ", e.Message);
        Assert.Contains("from byte " + BitConverter.ToInt32(data, 0), e.Message);
    }

    [Fact]
    public void TopLevelScalarIsRefusedAndTopLevelListBecomesRecords()
    {
        var e = Assert.Throws<BrineFormatException>(() => Write(Node.String("x")));
        Assert.Contains("only documents", e.Message);
        var records = Write(Node.List(Node.Map().Add("a", Node.Int(1)), Node.Map().Add("a", Node.Int(2))));
        var back = Read(records);
        Assert.Equal(2, back.Count);
        Assert.Equal(2L, back[1]["a"]!.Value);
        var bad = Assert.Throws<BrineFormatException>(() => Write(Node.List(Node.Map(), Node.Int(3))));
        Assert.Contains("item 1", bad.Message);
    }

    [Fact]
    public void IntegerBeyond64BitsIsRefusedWithItsPath()
    {
        using var ms = new MemoryStream();
        using var w = Format.CreateWriter(ms, new WriteOptions());
        using var r = new NodeReader(Node.Map().Add("n", Node.Map().Add("huge", Node.Int(System.Numerics.BigInteger.Pow(2, 70)))));
        var e = Assert.Throws<BrineFormatException>(() => TokenPump.Copy(r, w));
        Assert.Contains("64 bits", e.Message);
        Assert.Contains("$.n.huge", e.Message);
    }

    [Fact]
    public void SniffAcceptsBsonAndRejectsText()
    {
        Assert.True(Format.Sniff(Write(Node.Map().Add("a", Node.Int(1)))));
        Assert.False(Format.Sniff(Encoding.UTF8.GetBytes("{\"a\": 1}")));
        Assert.False(Format.Sniff(Encoding.UTF8.GetBytes("<root/>")));
    }

    [Fact]
    public void SampleReadsAsTheTrainingProgram()
    {
        var docs = Converter.ReadNodes(TestData.Samples("training.bson"));
        Assert.Single(docs);
        var program = docs[0];
        Assert.Equal(3, program["days"]!.Items!.Count);
        Assert.Equal("Foundations of Strength", program["metadata"]!["name"]!.AsString);
    }
}

public sealed class BsonConversionTests
{
    [Fact]
    public void TrainingXmlAndYamlConvertToTheBytesPythonWrites()
    {
        // Python's oracle: PyYAML's safe_load of the YAML sample, encoded by pymongo's bson.
        var python = Python.RunBytes("import sys, yaml, bson; sys.stdout.buffer.write(bson.encode(yaml.safe_load(open(sys.argv[1]))))", null, TestData.Samples("training.yaml"));
        Assert.Equal(Convert.ToHexString(python), Convert.ToHexString(File.ReadAllBytes(TestData.Samples("training.bson"))));
        using var dir = new TempDir();
        foreach (var sample in new[] { "training.xml", "training.yaml" })
        {
            var output = dir.File(sample + ".bson");
            var result = Brine.Conversion.Converter.Convert(TestData.Samples(sample), output);
            Assert.Equal(1, result.Values);
            Assert.Equal(Convert.ToHexString(python), Convert.ToHexString(File.ReadAllBytes(output)));
        }
    }

    [Fact]
    public void TrainingBsonConvertsToXmlAndBack()
    {
        using var dir = new TempDir();
        var xml = dir.File("t.xml");
        Brine.Conversion.Converter.Convert(TestData.Samples("training.bson"), xml);
        var back = dir.File("t.bson");
        Brine.Conversion.Converter.Convert(xml, back);
        Assert.Equal(File.ReadAllBytes(TestData.Samples("training.bson")), File.ReadAllBytes(back));
    }
}
