using Xunit;
using System.Numerics;
using System.Text;
using Brine.Conversion;
using Brine.Formats;
using Brine.Model;
using Brine.Tests.Support;

namespace Brine.Tests.Yaml;

/// <summary>PyYAML (Debian's python3-yaml) as the oracle for what Brine reads and writes.</summary>
public class YamlPyYamlOracleTests
{
    const string Plain = """
        name: Brine
        count: 42
        ratio: 0.25
        big: 123456789012345678901234567890
        negative: -17
        flags: [true, false, null]
        nested:
          list:
          - a
          - 'quoted: yes'
          - "tab\there"
          - {x: 1, y: [2, 3]}
          empty_map: {}
          empty_list: []
        text: |
          line one
          line two
        folded: >
          folded
          text
        1: int key
        ~: null key
        false: bool key
        unicode: "héllo ✓ 🌊"
        inf: .inf
        nan: .nan
        exp: 1.5e+10
        """;

    [Fact]
    public void Reading_matches_PyYAML_safe_load()
    {
        YamlHelpers.AssertSameAsPython(YamlHelpers.Read(Plain), YamlHelpers.PyLoad(Plain), "plain document");
    }

    [Fact]
    public void Reading_a_YAML_1_1_document_matches_PyYAML()
    {
        const string doc = "%YAML 1.1\n---\n[yes, No, on, OFF, 0777, 0x1F, 1_000, 1:30, 1e3, 1.5e+3, 2001-12-14, 2001-12-14t21:59:43.10-05:00, 2002-12-14 21:59:43.10, -1:30.5]\n";
        YamlHelpers.AssertSameAsPython(YamlHelpers.Read(doc), YamlHelpers.PyLoad(doc), "YAML 1.1");
    }

    [Fact]
    public void Merge_keys_match_PyYAML()
    {
        const string doc = "base: &b {a: 1, b: 2}\nmore: &m {c: 3, a: 100}\nchild: {b: 20, <<: [*b, *m], d: 4}\ninline: {<<: {z: 26}, y: 25}\n";
        YamlHelpers.AssertSameAsPython(YamlHelpers.Read(doc), YamlHelpers.PyLoad(doc), "merge keys");
    }

    [Fact]
    public void Sample_training_program_matches_PyYAML()
    {
        var bytes = File.ReadAllBytes(TestData.Samples("training.yaml"));
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("&day1", text);
        Assert.Contains("*day1", text);
        YamlHelpers.AssertSameAsPython(YamlHelpers.Read(bytes), YamlHelpers.PyLoad(text), "samples/training.yaml");
    }

    [Fact]
    public void Converting_the_sample_file_keeps_its_anchors()
    {
        using var dir = new TempDir();
        var output = dir.File("out.yml");
        var result = Converter.Convert(TestData.Samples("training.yaml"), output);
        Assert.Equal("yaml", result.From.Name);
        Assert.Equal(1, result.Values);
        var text = File.ReadAllText(output);
        Assert.Contains("&day1", text);
        Assert.Contains("*day1", text);
        Assert.Contains("!!timestamp", text);
        Assert.Null(NodeComparer.Difference(Converter.ReadNodes(TestData.Samples("training.yaml"))[0], Converter.ReadNodes(output)[0]));
        var same = Python.Run("import sys, yaml\nd = yaml.safe_load(sys.stdin.read())\nprint(d['schedule'][2]['sessions'][1]['day'] is d['days'][2])", Encoding.UTF8.GetBytes(text)).Trim();
        Assert.Equal("True", same);
    }

    [Fact]
    public void Compact_output_uses_flow_style()
    {
        var docs = YamlHelpers.Read(Plain);
        var ms = new MemoryStream();
        using (var w = YamlHelpers.Format.CreateWriter(ms, new WriteOptions { Indent = false }))
        {
            using var r = new NodeReader(docs);
            TokenPump.Copy(r, w);
            w.Finish();
        }
        var text = Encoding.UTF8.GetString(ms.ToArray());
        Assert.StartsWith("{", text);
        Assert.Null(NodeComparer.Difference(docs[0], YamlHelpers.ReadOne(text)));
        YamlHelpers.AssertSameAsPython(docs, YamlHelpers.PyLoad(text), text);
    }

    [Fact]
    public void Content_sniffing_finds_YAML()
    {
        Assert.True(YamlHelpers.Format.Sniff("# comment\nkey: value\n"u8));
        Assert.True(YamlHelpers.Format.Sniff("%YAML 1.2\n---\n"u8));
        Assert.True(YamlHelpers.Format.Sniff("- a\n- b\n"u8));
        Assert.False(YamlHelpers.Format.Sniff("{\"a\": 1}"u8));
        Assert.False(YamlHelpers.Format.Sniff("just words"u8));
        Assert.False(YamlHelpers.Format.Sniff([0x00, 0x01, 0x3A, 0x20]));
        Assert.Same(YamlHelpers.Format.GetType(), FormatRegistry.Default.FindByName("yml")!.GetType());
        Assert.Equal("yaml", FormatRegistry.Default.FindByPath("x.YML")!.Name);
        Assert.Equal("yaml", FormatRegistry.Default.FindByMediaType("application/yaml; charset=utf-8")!.Name);
    }

    [Fact]
    public void PyYAML_reads_what_Brine_writes()
    {
        var docs = YamlHelpers.Read(Plain);
        var written = YamlHelpers.Write(docs);
        YamlHelpers.AssertSameAsPython(docs, YamlHelpers.PyLoad(written), "written:\n" + written);
    }

    [Fact]
    public void Strings_that_look_like_other_types_are_quoted()
    {
        string[] tricky = ["true", "False", "123", "null", "~", "yes", "No", "on", "off", "1e3", "", "0777", "0o17", "0x1F", "1_000", "1:30", ".inf", "-.5", "2024-05-01", "2001-12-14 21:59:43", "<<", "=", "- item", "key: value", "#hash", "&anchor", "*alias", "!tag", "@at", "`tick", "a\nb", " lead", "trail ", "'", "\"", "\t", "NaN", ".nan"];
        var list = Node.List(tricky.Select(Node.String).ToArray());
        var written = YamlHelpers.Write(list);
        var back = YamlHelpers.ReadOne(written);
        Assert.Null(NodeComparer.Difference(list, back));
        YamlHelpers.AssertSameAsPython([list], YamlHelpers.PyLoad(written), "written:\n" + written);
        Assert.Contains("'true'", written);
        Assert.Contains("'yes'", written);
    }

    [Fact]
    public void Numbers_keep_their_digits_and_floats_round_trip()
    {
        double[] floats = [0.1, 1.0 / 3, 1e20, 1e-7, -0.0, 123456.789, double.MaxValue, double.Epsilon, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 5e-324, 100.0];
        var list = Node.List(floats.Select(Node.Float).ToArray());
        list.Add(Node.Int(BigInteger.Parse("-98765432109876543210987654321")));
        list.Add(Node.Int(long.MinValue));
        list.Add(Node.Decimal(DecimalNumber.Parse("12345678901234567890.123456789")));
        var written = YamlHelpers.Write(list);
        Assert.Contains("12345678901234567890.123456789", written);
        Assert.Contains(".inf", written); Assert.Contains("-.inf", written); Assert.Contains(".nan", written);
        var back = YamlHelpers.ReadOne(written);
        Assert.Null(NodeComparer.Difference(list, back));
        YamlHelpers.AssertSameAsPython([back], YamlHelpers.PyLoad(written), "written:\n" + written);
    }

    [Fact]
    public void Tags_round_trip_through_PyYAML_the_python_way()
    {
        var user = Node.Map("models.User").Add("name", Node.String("Ann")).Add("age", Node.Int(37));
        var set = Node.List("set"); set.Add(Node.String("x")); set.Add(Node.String("y"));
        var tuple = Node.List("tuple"); tuple.Add(Node.Int(1)); tuple.Add(Node.String("two"));
        var doc = Node.Map()
            .Add("user", user)
            .Add("tags", set)
            .Add("point", tuple)
            .Add("blob", Node.Bytes(Enumerable.Range(0, 200).Select(i => (byte)i).ToArray()))
            .Add("small", Node.Bytes([1, 2, 3]))
            .Add("when", Node.Timestamp(new Timestamp(1714557600, 250_000_000, 120)))
            .Add("utc", Node.Timestamp(new Timestamp(1714557600, 0, 0)))
            .Add("naive", Node.Timestamp(new Timestamp(1714557600, 0, null)))
            .Add("day", Node.Date(new DateOnly(2024, 5, 1)));
        var written = YamlHelpers.Write(doc);
        Assert.Contains("!!python/object:models.User", written);
        Assert.Contains("!!set", written);
        Assert.Contains("!!python/tuple", written);
        Assert.Contains("!!binary", written);
        Assert.Contains("!!timestamp", written);

        var back = YamlHelpers.ReadOne(written);
        Assert.Null(NodeComparer.Difference(doc, back));
        YamlHelpers.AssertSameAsPython([doc], YamlHelpers.PyLoad(written, unsafeLoader: true), "written:\n" + written);

        // And what PyYAML writes, Brine reads the same way.
        var pyText = Python.Run(YamlHelpers.PyNormalize + "\nprint(yaml.dump(yaml.load(sys.stdin.read(), Loader=yaml.Loader)))", Encoding.UTF8.GetBytes(written));
        // PyYAML writes plain timestamps and no %YAML directive: read them with YAML 1.1 rules.
        using var r = YamlHelpers.Format.CreateReader(new MemoryStream(Encoding.UTF8.GetBytes(pyText)),
            new ReadOptions { Settings = new Dictionary<string, string> { ["yaml-version"] = "1.1" } });
        var fromPy = NodeBuilder.ReadAll(r);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(YamlHelpers.Canonical(doc), YamlHelpers.Canonical(Assert.Single(fromPy))), pyText);
    }

    [Fact]
    public void Plain_data_written_by_Brine_passes_safe_load()
    {
        var doc = Node.Map().Add("set", Node.List("set").Add(Node.Int(1))).Add("b", Node.Bytes([0xFF])).Add("d", Node.Date(new DateOnly(2020, 2, 29)));
        var written = YamlHelpers.Write(doc);
        YamlHelpers.AssertSameAsPython([doc], YamlHelpers.PyLoad(written), written);
    }

    [Fact]
    public void YAML_to_YAML_keeps_anchors_and_PyYAML_sees_shared_objects()
    {
        const string src = "a: &shared {k: [1, 2]}\nb: *shared\nc: &s2 [x]\nd: *s2\n";
        var output = ConvertYamlToYaml(src, RefsMode.Auto);
        Assert.Contains("&shared", output);
        Assert.Contains("*shared", output);
        var identity = Python.Run("import sys, yaml\nd = yaml.safe_load(sys.stdin.read())\nprint(d['a'] is d['b'], d['c'] is d['d'])", Encoding.UTF8.GetBytes(output)).Trim();
        Assert.Equal("True True", identity);
    }

    [Fact]
    public void Invalid_anchor_names_are_replaced()
    {
        var shared = Node.List(Node.Int(1));
        var doc = Node.Map().Add("a", shared).Add("b", shared);
        var ms = new MemoryStream();
        using (var w = YamlHelpers.Format.CreateWriter(ms, WriteOptions.Default))
        {
            w.StartMap(); w.WriteString("a"); w.SetAnchor("not valid!"); w.StartList(); w.WriteInt(1); w.EndList();
            w.WriteString("b"); w.WriteAlias("not valid!"); w.EndMap(); w.Finish();
        }
        var text = Encoding.UTF8.GetString(ms.ToArray());
        Assert.DoesNotContain("not valid", text);
        var back = YamlHelpers.ReadOne(text);
        Assert.Same(back["a"], back["b"]);
        Assert.Equal("True", Python.Run("import sys, yaml\nd = yaml.safe_load(sys.stdin.read())\nprint(d['a'] is d['b'])", Encoding.UTF8.GetBytes(text)).Trim());
    }

    [Fact]
    public void A_cycle_round_trips()
    {
        var list = Node.List();
        list.Add(Node.String("me"));
        list.Add(list);
        var written = YamlHelpers.Write(list);
        var back = YamlHelpers.ReadOne(written);
        Assert.Same(back, back[1]);
        var py = Python.Run("import sys, yaml\nd = yaml.safe_load(sys.stdin.read())\nprint(d[1] is d, d[0])", Encoding.UTF8.GetBytes(written)).Trim();
        Assert.Equal("True me", py);
        // PyYAML's own cyclic output reads back as a cycle too.
        var pyText = Python.Run("import yaml\nl = ['me']\nl.append(l)\nprint(yaml.safe_dump(l))");
        var fromPy = YamlHelpers.ReadOne(pyText);
        Assert.Same(fromPy, fromPy[1]);
    }

    [Fact]
    public void Multi_document_streams_round_trip()
    {
        var docs = new[] { Node.Map().Add("n", Node.Int(1)), Node.String("two"), Node.List(Node.Null()), Node.Null() };
        var written = YamlHelpers.Write(docs);
        Assert.Contains("---", written);
        var back = YamlHelpers.Read(written);
        Assert.Equal(docs.Length, back.Count);
        for (int i = 0; i < docs.Length; i++) Assert.Null(NodeComparer.Difference(docs[i], back[i]));
        YamlHelpers.AssertSameAsPython(docs, YamlHelpers.PyLoad(written), written);
    }

    [Fact]
    public void Global_and_local_tags_are_written_back()
    {
        const string src = "[!foo x, !<tag:example.com,2000:widget> y, !foo {a: 1}, !!python/name:os.path z]\n";
        var n = YamlHelpers.ReadOne(src);
        var written = YamlHelpers.Write(n);
        Assert.Contains("!<tag:example.com,2000:widget>", written);
        Assert.Null(NodeComparer.Difference(n, YamlHelpers.ReadOne(written)));
        var tags = Python.Run("import sys, yaml\nn = yaml.compose(sys.stdin.read())\nprint(' '.join(i.tag for i in n.value))", Encoding.UTF8.GetBytes(written)).Trim();
        Assert.Equal("!foo tag:example.com,2000:widget !foo tag:yaml.org,2002:python/name:os.path", tags);
    }

    [Fact]
    public void Alias_bomb_hits_the_expansion_limit_and_converts_fine_to_YAML()
    {
        var sb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i <= 9; i++)
            sb.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        var bomb = sb.ToString();

        // Expanding (what a conversion to a format without references does) stops at the limit.
        using (var r = YamlHelpers.Format.CreateReader(new MemoryStream(Encoding.UTF8.GetBytes(bomb)), ReadOptions.Default))
        {
            var e = Assert.Throws<BrineLimitException>(() => TokenPump.Copy(r, new CountingWriter(), new PumpOptions { PassReferences = false, MaxExpandedNodes = 1_000_000 }));
            Assert.Contains("alias", e.Message);
        }
        if (FormatRegistry.Default.FindByName("json") is not null)
        {
            using var input = new MemoryStream(Encoding.UTF8.GetBytes(bomb));
            Assert.Throws<BrineLimitException>(() => Converter.Convert(input, YamlHelpers.Format, Stream.Null, FormatRegistry.Default.GetByName("json")));
        }

        // YAML to YAML keeps the aliases: the output is as small as the input.
        var output = ConvertYamlToYaml(bomb, RefsMode.Auto);
        Assert.True(output.Length < bomb.Length * 2, output);
        Assert.Contains("*a8", output);
    }

    static string ConvertYamlToYaml(string yaml, RefsMode refs)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(yaml));
        var output = new MemoryStream();
        Converter.Convert(input, YamlHelpers.Format, output, YamlHelpers.Format, new ConvertOptions { Refs = refs });
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>A writer that only counts, so expansion is measured without the cost of output.</summary>
    sealed class CountingWriter : TokenWriter
    {
        public long Count;
        public override string FormatName => "count";
        public override void WriteNull() => Count++;
        public override void WriteBool(bool value) => Count++;
        public override void WriteInt(long value) => Count++;
        public override void WriteBigInt(BigInteger value) => Count++;
        public override void WriteFloat(double value) => Count++;
        public override void WriteDecimal(DecimalNumber value) => Count++;
        public override void WriteString(string value) => Count++;
        public override void WriteBytes(ReadOnlySpan<byte> value) => Count++;
        public override void WriteTimestamp(Timestamp value) => Count++;
        public override void WriteDate(DateOnly value) => Count++;
        public override void WriteTime(TimeOnly value) => Count++;
        public override void WriteUuid(Guid value) => Count++;
        public override void StartList(int count = -1) => Count++;
        public override void EndList() { }
        public override void StartMap(int count = -1) => Count++;
        public override void EndMap() { }
        public override void WriteAlias(string anchor) => Count++;
        public override void Finish() { }
    }
}
