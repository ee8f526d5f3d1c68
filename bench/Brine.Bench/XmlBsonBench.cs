using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Brine.Formats;
using Brine.Formats.Bson;
using Brine.Formats.Xml;
using Brine.Model;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;

namespace Brine.Bench;

/// <summary>
/// XML and BSON read/write of N user records (id, name, email, language, registered_at) through Brine's token
/// stream, beside the libraries underneath used directly (MongoDB.Bson's BsonDocument, XmlReader, XDocument) and
/// Python's bson. Usage: xmlbson [records=200000] [runs=3]
/// </summary>
public static class XmlBsonBench
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var dir = Path.Combine(Path.GetTempPath(), "brine-bench-xmlbson");
        Directory.CreateDirectory(dir);
        string bsonPath = Path.Combine(dir, "users.bson"), xmlPath = Path.Combine(dir, "users.xml");
        var results = new List<Measure.Result>();

        var records = Node.List();
        var langs = new[] { "en", "fr", "de", "es", "ja" };
        for (int i = 0; i < n; i++)
            records.Add(Node.Map().Add("id", Node.Int(i)).Add("name", Node.String("user " + i)).Add("email", Node.String($"u{i}@example.com"))
                .Add("language", Node.String(langs[i % 5])).Add("registered_at", Node.Timestamp(Timestamp.FromUnixMilliseconds(1_600_000_000_000 + i * 1000L))));

        void WriteWith(Format f, string path)
        {
            using var s = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var w = f.CreateWriter(s, new WriteOptions { Indent = false });
            TokenPump.WriteNode(records, w, expand: true);
            w.Finish();
        }
        static long ReadWith(Format f, string path)
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var r = f.CreateReader(s, new ReadOptions());
            long tokens = 0;
            while (r.Read()) tokens++;
            return tokens;
        }
        Measure.Result Step(string work, string who, string sizePath, Action a, string note = "")
        {
            Measure.ResetPeak();
            var t = Measure.Median(runs, a);
            var mb = new FileInfo(sizePath).Length / 1e6;
            return new Measure.Result(work, who, t, mb / t, Measure.PeakWorkingSet(), note);
        }

        var bson = new BsonFormat();
        var xml = new XmlFormat();
        results.Add(Step($"BSON write {n:N0} records", "Brine (tokens → BsonBinaryWriter)", bsonPath, () => WriteWith(bson, bsonPath)));
        var docs = new List<BsonDocument>(n);
        for (int i = 0; i < n; i++)
            docs.Add(new BsonDocument { { "id", i }, { "name", "user " + i }, { "email", $"u{i}@example.com" }, { "language", langs[i % 5] }, { "registered_at", new BsonDateTime(1_600_000_000_000 + i * 1000L) } });
        results.Add(Step($"BSON write {n:N0} records", "MongoDB.Bson BsonDocument.ToBson", bsonPath, () =>
        {
            using var s = new FileStream(bsonPath + ".anchor", FileMode.Create);
            foreach (var d in docs) s.Write(d.ToBson());
        }));
        results.Add(Step($"BSON read {n:N0} records", "Brine (BsonBinaryReader → tokens)", bsonPath, () => ReadWith(bson, bsonPath)));
        results.Add(Step($"BSON read {n:N0} records", "MongoDB.Bson BsonSerializer → BsonDocument", bsonPath, () =>
        {
            using var s = new FileStream(bsonPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var r = new MongoDB.Bson.IO.BsonBinaryReader(s);
            while (!r.IsAtEndOfFile()) BsonSerializer.Deserialize<BsonDocument>(r);
        }));
        var py = Measure.Run("/usr/bin/python3", "-c", """
            import sys, time, bson
            data = open(sys.argv[1], 'rb').read()
            best = []
            for _ in range(3):
                t = time.perf_counter(); docs = bson.decode_all(data); best.append(time.perf_counter() - t)
            best.sort(); print(best[1])
            """, bsonPath);
        var pyT = double.Parse(py.Trim(), CultureInfo.InvariantCulture);
        results.Add(new Measure.Result($"BSON read {n:N0} records", "Python bson.decode_all (C extension)", pyT, new FileInfo(bsonPath).Length / 1e6 / pyT, 0, "in-process timing, whole file in memory"));

        results.Add(Step($"XML write {n:N0} records", "Brine (tokens → XmlWriter)", xmlPath, () => WriteWith(xml, xmlPath)));
        results.Add(Step($"XML read {n:N0} records", "Brine (XmlReader → tokens)", xmlPath, () => ReadWith(xml, xmlPath)));
        results.Add(Step($"XML read {n:N0} records", "XmlReader, every node visited", xmlPath, () =>
        {
            using var r = XmlReader.Create(xmlPath);
            long c = 0;
            while (r.Read()) { c++; if (r.NodeType == XmlNodeType.Text) _ = r.Value; }
        }));
        results.Add(Step($"XML read {n:N0} records", "XDocument.Load (whole tree)", xmlPath, () => XDocument.Load(xmlPath)));

        Measure.Save("xmlbson", Measure.Table("XML and BSON", results));
        return 0;
    }
}
