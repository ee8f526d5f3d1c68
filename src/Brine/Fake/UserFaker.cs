using Apache.Arrow;
using Apache.Arrow.Types;
using Bogus;
using Brine.Conversion;
using Brine.Formats;
using Brine.IO;
using Brine.Model;
using Brine.Tabular;

namespace Brine.Fake;

/// <summary>
/// The tutorial's users: id, name, email, language (de, en, es, fr, it) and registered_at, with names and
/// emails from Bogus in each user's own locale. The same seed gives the same users. Users come as record
/// batches built straight into Arrow buffers, so millions of rows are cheap to make.
/// </summary>
public sealed class UserFaker
{
    public static readonly string[] Languages = { "de", "en", "es", "fr", "it" };

    public static Schema Schema { get; } = new Schema.Builder()
        .Field(new Field("id", Int64Type.Default, false))
        .Field(new Field("name", StringType.Default, false))
        .Field(new Field("email", StringType.Default, false))
        .Field(new Field("language", StringType.Default, false))
        .Field(new Field("registered_at", new TimestampType(TimeUnit.Microsecond, "UTC"), false))
        .Build();

    static readonly long From = new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() * 1_000_000;
    static readonly long To = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() * 1_000_000;

    readonly int _seed;

    public UserFaker(int seed = 42) => _seed = seed;

    /// <summary>Per locale: first and last names drawn from Bogus once, their e-mail slugs, and e-mail domains.</summary>
    sealed class LocalePool
    {
        public readonly string[] First, Last, FirstSlug, LastSlug, Domains;
        public LocalePool(string locale, int seed, int size)
        {
            var f = new Faker(locale) { Random = new Randomizer(seed) };
            First = Enumerable.Range(0, size).Select(_ => f.Name.FirstName()).ToArray();
            Last = Enumerable.Range(0, size).Select(_ => f.Name.LastName()).ToArray();
            FirstSlug = First.Select(Slug).ToArray();
            LastSlug = Last.Select(Slug).ToArray();
            // Bogus's e-mails for the locale give its usual domains.
            Domains = Enumerable.Range(0, 32).Select(_ => f.Internet.Email(First[0], Last[0]).Split('@')[1]).Distinct().ToArray();
        }
    }

    /// <summary>ASCII letters and digits of a name, lower case, accents removed (as e-mail local parts are written).</summary>
    static string Slug(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length);
        foreach (var c in name.Normalize(System.Text.NormalizationForm.FormD))
        {
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(char.ToLowerInvariant(c));
            else if (c is 'ß') sb.Append("ss");
        }
        return sb.Length > 0 ? sb.ToString() : "user";
    }

    /// <summary><paramref name="count"/> users as batches of at most <paramref name="batchSize"/> rows.</summary>
    /// <remarks>Bogus makes a name in ~10–20 µs; 10 million users would take minutes. So Bogus fills a pool of
    /// 1 000 first and last names per locale once, and each user combines a random pair (a million combinations per
    /// locale) and an e-mail built from the pair, its id (unique) and one of the locale's domains.</remarks>
    public IEnumerable<RecordBatch> Batches(long count, int batchSize = 65_536)
    {
        var pools = Languages.Select((l, i) => new LocalePool(l, unchecked(_seed * 31 + i), 1000)).ToArray();
        var random = new Random(_seed);
        long id = 0;
        while (id < count)
        {
            int n = (int)Math.Min(batchSize, count - id);
            var ids = new long[n];
            var times = new long[n];
            var name = new StringArray.Builder();
            var email = new StringArray.Builder();
            var language = new StringArray.Builder();
            for (int i = 0; i < n; i++)
            {
                ids[i] = ++id;
                int li = random.Next(Languages.Length);
                var p = pools[li];
                int fi = random.Next(p.First.Length), la = random.Next(p.Last.Length);
                name.Append(string.Concat(p.First[fi], " ", p.Last[la]));
                email.Append(string.Concat(p.FirstSlug[fi], ".", p.LastSlug[la], id.ToString(System.Globalization.CultureInfo.InvariantCulture), "@", p.Domains[random.Next(p.Domains.Length)]));
                language.Append(Languages[li]);
                times[i] = From + random.NextInt64(To - From);
            }
            yield return new RecordBatch(Schema, new IArrowArray[]
            {
                new Int64Array(new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()).ToArray()), ArrowBuffer.Empty, n, 0, 0),
                name.Build(), email.Build(), language.Build(),
                new TimestampArray((TimestampType)Schema.FieldsList[4].DataType, new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(times.AsSpan()).ToArray()), ArrowBuffer.Empty, n, 0, 0),
            }, n);
        }
    }

    /// <summary>The users as a table reader (for <see cref="TablePump"/> or <see cref="TableTokenReader"/>).</summary>
    public TableReader AsTable(long count, int batchSize = 65_536) => new BatchesReader(Schema, Batches(count, batchSize), count);

    /// <summary>Writes <paramref name="count"/> users to <paramref name="path"/> in its format (by extension or <paramref name="format"/>), atomically.</summary>
    public long WriteFile(string path, long count, string? format = null, IReadOnlyDictionary<string, string>? settings = null, Action<long>? onRows = null)
    {
        var to = Converter.ResolveOutput(path, format);
        settings ??= new Dictionary<string, string>();
        using var file = new AtomicFile(path);
        long rows = Write(file.Stream, to, count, settings, onRows);
        file.Commit();
        return rows;
    }

    /// <summary>Writes users to a stream: table formats take the batches, tree formats a list of user maps.</summary>
    public long Write(Stream output, Format to, long count, IReadOnlyDictionary<string, string> settings, Action<long>? onRows = null)
    {
        using var table = AsTable(count);
        if (to is ITableFormat tableFormat)
        {
            using var writer = tableFormat.CreateTable(output, Schema, new TableWriteOptions { Compression = settings.GetValueOrDefault("compression"), Settings = settings });
            long rows = TablePump.Copy(table, writer, onRows);
            writer.Finish();
            output.Flush();
            return rows;
        }
        using var userRows = new TableTokenReader(table, "fake", ownsTable: false);
        // Records formats (JSON Lines) take one user a line, as the converter writes them.
        using var reader = to.Capabilities.Shape == "records" ? new ListItemsReader(userRows) : (TokenReader)userRows;
        using var tokens = to.CreateWriter(output, new WriteOptions { Settings = settings });
        TokenPump.Copy(reader, tokens, new PumpOptions { PassReferences = false });
        tokens.Finish();
        output.Flush();
        return count;
    }

    sealed class BatchesReader(Schema schema, IEnumerable<RecordBatch> batches, long count) : TableReader
    {
        readonly IEnumerator<RecordBatch> _e = batches.GetEnumerator();
        public override Schema Schema => schema;
        public override long? RowCount => count;
        public override RecordBatch? ReadNext() => _e.MoveNext() ? _e.Current : null;
        public override void Dispose() { _e.Dispose(); base.Dispose(); }
    }
}
