using System.Text.Json;
using Brine.Conversion;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Avro;

/// <summary>A table converted to Avro with <c>--schema</c> is written under that schema, read back by Python's avro.</summary>
public class AvroWriterSchemaTests
{
    const string PySchemaAndRows = """
import sys, json, avro.datafile, avro.io
with open(sys.argv[1], 'rb') as f:
    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
    print(r.meta['avro.schema'].decode())
    for rec in r:
        print(json.dumps(rec, default=lambda o: o.isoformat() if hasattr(o, 'isoformat') else str(o), sort_keys=True))
""";

    const string Csv = """
id,name,email,language,registered_at
1,Ada,ada@example.com,en,2024-01-02T03:04:05.123Z
2,Zoë,zoe@example.fr,fr,2024-02-03T04:05:06.000Z
3,"Jan, Jr.",jan@example.de,de,2023-12-31T23:59:59.999Z

""";

    /// <summary>Converts <paramref name="csv"/> to Avro under <paramref name="schema"/>; Python's lines: the header's schema, then a record per line.</summary>
    static string[] ConvertAndReadInPython(string schema, string csv)
    {
        using var tmp = new TempDir();
        var schemaPath = tmp.File("schema.avsc");
        File.WriteAllText(schemaPath, schema);
        var csvPath = tmp.File("rows.csv");
        File.WriteAllText(csvPath, csv);
        var avro = tmp.File("rows.avro");
        Converter.Convert(csvPath, avro, new ConvertOptions { SchemaPath = schemaPath });
        return Python.Run(PySchemaAndRows, null, avro).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void EnumsAndNamedRecordsComeFromTheGivenSchema()
    {
        // The tutorial's schema has an enum and a namespaced record name: the columns alone would map to
        // a record "Row" with a string column, so rows are encoded by the given schema instead.
        var lines = ConvertAndReadInPython(AvroPythonTests.UserSchema, Csv);
        var written = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("User", written.GetProperty("name").GetString());
        Assert.Equal("example", written.GetProperty("namespace").GetString());
        var language = written.GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "language");
        Assert.Equal("enum", language.GetProperty("type").GetProperty("type").GetString());
        Assert.Equal(3, lines.Length - 1);
        var zoe = JsonDocument.Parse(lines[2]).RootElement;
        Assert.Equal(2, zoe.GetProperty("id").GetInt64());
        Assert.Equal("Zoë", zoe.GetProperty("name").GetString());
        Assert.Equal("fr", zoe.GetProperty("language").GetString());
        Assert.Equal(DateTimeOffset.Parse("2024-02-03T04:05:06Z"), DateTimeOffset.Parse(zoe.GetProperty("registered_at").GetString()!));
        Assert.Equal("Jan, Jr.", JsonDocument.Parse(lines[3]).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public void ASchemaTheColumnsMapToIsWrittenAsGiven()
    {
        // Primitive fields and ["null", T] unions: the column writer encodes them, and the header keeps the
        // given name, namespace and docs.
        var lines = ConvertAndReadInPython("""
        {"type": "record", "name": "Contact", "namespace": "crm", "doc": "one person",
         "fields": [
          {"name": "id", "type": "long", "doc": "primary key"},
          {"name": "name", "type": "string"},
          {"name": "email", "type": ["null", "string"], "default": null}
        ]}
        """, "id,name,email\n1,Ada,ada@example.com\n2,Bob,\n");
        var written = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("Contact", written.GetProperty("name").GetString());
        Assert.Equal("crm", written.GetProperty("namespace").GetString());
        Assert.Equal("one person", written.GetProperty("doc").GetString());
        Assert.Equal("primary key", written.GetProperty("fields")[0].GetProperty("doc").GetString());
        Assert.Equal("""{"email": "ada@example.com", "id": 1, "name": "Ada"}""", lines[1]);
        // An empty field of a string column is the empty string (docs/tabular.md), null or not.
        Assert.Equal("""{"email": "", "id": 2, "name": "Bob"}""", lines[2]);
    }

    [Fact]
    public void ANonRecordSchemaIsAUsageError()
    {
        using var tmp = new TempDir();
        var schema = tmp.File("s.avsc");
        File.WriteAllText(schema, "\"string\"");
        var csv = tmp.File("a.csv");
        File.WriteAllText(csv, "a\n1\n");
        var avro = tmp.File("a.avro");
        var e = Assert.ThrowsAny<Exception>(() => Converter.Convert(csv, avro, new ConvertOptions { SchemaPath = schema }));
        Assert.False(File.Exists(avro));
        Assert.Contains("record", e.Message);
    }
}
