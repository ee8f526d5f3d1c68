using System.Text;
using System.Text.Json;
using Brine.Formats;
using Brine.Formats.Cbor;
using Brine.Formats.MessagePack;
using Brine.Model;

namespace Brine.Bench;

/// <summary>
/// MessagePack and CBOR throughput on a users JSON array (id, name, email, language, registered_at), beside
/// System.Text.Json's raw parse (the anchor: Brine's JSON → MessagePack should reach half its speed) and
/// MessagePack-CSharp's own JSON → MessagePack conversion.
/// Usage: msgpack [rows=200000] [runs=5]
/// </summary>
public static class BinaryTreeFormatsBench
{
    public static int Run(string[] args)
    {
        int rows = args.Length > 0 ? int.Parse(args[0]) : 200_000;
        int runs = args.Length > 1 ? int.Parse(args[1]) : 5;
        var json = UsersJson(rows);
        double mb = json.Length / 1e6;
        var results = new List<Measure.Result>();
        void Add(string work, string who, Action a, string note = "")
        {
            Measure.ResetPeak();
            double s = Measure.Median(runs, a);
            results.Add(new(work, who, s, mb / s, Measure.PeakWorkingSet(), note));
        }

        Add("parse JSON (tokens only)", "System.Text.Json Utf8JsonReader", () =>
        {
            var r = new Utf8JsonReader(json);
            while (r.Read()) { }
        });
        var registry = FormatRegistry.Default;
        var msgpack = new MessagePackFormat();
        var cbor = new CborFormat();
        byte[] packed = Array.Empty<byte>();
        var jsonText = Encoding.UTF8.GetString(json);
        Add("JSON → MessagePack", "MessagePack-CSharp ConvertFromJson", () => packed = global::MessagePack.MessagePackSerializer.ConvertFromJson(jsonText),
            "from a string (its API takes text)");
        var sink = new MemoryStream(json.Length);
        Add("JSON → MessagePack", "Brine writer fed by Utf8JsonReader", () => { sink.SetLength(0); FeedJson(json, msgpack.CreateWriter(sink, WriteOptions.Default)); },
            "writer cost alone: the tokens come straight from Utf8JsonReader");
        packed = sink.ToArray();
        if (registry.FindByName("json") is { } jsonFormat)
            Add("JSON → MessagePack", "Brine Converter (json reader + pump)", () =>
            {
                sink.SetLength(0);
                Conversion.Converter.Convert(new MemoryStream(json), jsonFormat, sink, msgpack);
            });
        Add("read MessagePack (tokens)", "Brine MessagePackTokenReader", () => Drain(msgpack.CreateReader(new MemoryStream(packed), ReadOptions.Default)),
            $"{packed.Length / 1e6:F1} MB of MessagePack; MB/s of the JSON size");
        Add("JSON → CBOR", "Brine writer fed by Utf8JsonReader", () => { sink.SetLength(0); FeedJson(json, cbor.CreateWriter(sink, WriteOptions.Default)); });
        var cborBytes = sink.ToArray();
        Add("read CBOR (tokens)", "Brine CborTokenReader", () => Drain(cbor.CreateReader(new MemoryStream(cborBytes), ReadOptions.Default)),
            $"{cborBytes.Length / 1e6:F1} MB of CBOR; MB/s of the JSON size");
        Measure.Save("msgpack-cbor", Measure.Table($"MessagePack and CBOR, {rows:N0} users rows ({mb:F1} MB of JSON)", results));
        return 0;
    }

    static void Drain(TokenReader r) { using (r) while (r.Read()) { } }

    /// <summary>Pushes Utf8JsonReader's tokens into a writer, with unknown container counts as a streaming JSON reader gives them.</summary>
    static void FeedJson(byte[] json, TokenWriter w)
    {
        var r = new Utf8JsonReader(json);
        Span<byte> scratch = stackalloc byte[256];
        while (r.Read())
        {
            switch (r.TokenType)
            {
                case JsonTokenType.StartArray: w.StartList(); break;
                case JsonTokenType.EndArray: w.EndList(); break;
                case JsonTokenType.StartObject: w.StartMap(); break;
                case JsonTokenType.EndObject: w.EndMap(); break;
                case JsonTokenType.PropertyName:
                case JsonTokenType.String:
                    if (!r.ValueIsEscaped) w.WriteStringUtf8(r.ValueSpan);
                    else w.WriteString(r.GetString()!);
                    break;
                case JsonTokenType.Number:
                    if (r.TryGetInt64(out long l)) w.WriteInt(l); else w.WriteFloat(r.GetDouble());
                    break;
                case JsonTokenType.True: w.WriteBool(true); break;
                case JsonTokenType.False: w.WriteBool(false); break;
                case JsonTokenType.Null: w.WriteNull(); break;
            }
        }
        w.Finish();
        w.Dispose();
    }

    static byte[] UsersJson(int rows)
    {
        var languages = new[] { "en", "fr", "de", "es", "ja" };
        var sb = new StringBuilder(rows * 130);
        sb.Append('[');
        var start = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < rows; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("{\"id\":").Append(i + 1)
              .Append(",\"name\":\"User Number ").Append(i).Append('"')
              .Append(",\"email\":\"user").Append(i).Append("@example.com\"")
              .Append(",\"language\":\"").Append(languages[i % 5]).Append('"')
              .Append(",\"registered_at\":\"").Append(start.AddSeconds(i * 37L).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")).Append("\"}");
        }
        sb.Append(']');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
