using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;

namespace Brine.Tabular;

/// <summary>
/// Infers an Arrow schema from sample rows. Rules (documented in docs/tabular.md): columns in order of first
/// appearance, all nullable; int + float → double; int + decimal → decimal; decimal + float → double;
/// a column with only nulls → string; any other mix → string; lists merge their item types, maps become
/// structs whose fields are the union of the keys seen; timestamps get a UTC zone when any value had an offset,
/// microsecond unit unless a value has sub-microsecond digits.
/// </summary>
public static class SchemaInference
{
    enum K { Null, Bool, Int, Float, Decimal, String, Bytes, Timestamp, Date, Time, Uuid, List, Struct }

    sealed class Guess
    {
        public K Kind = K.Null;
        public bool Zoned, Nanos;
        public int Scale, IntDigits;
        public Guess? Item;
        public List<(string Name, Guess Guess)>? Fields;

        public void Add(object? v, int depth)
        {
            if (v is null) return;
            if (depth > RowsToTable.MaxDepth) throw new CellTypeException(v, $"nested at most {RowsToTable.MaxDepth} levels deep");
            var k = KindOf(v);
            if (Kind == K.Null) Kind = k;
            else if (Kind != k)
            {
                if ((Kind, k) is (K.Int, K.Float) or (K.Float, K.Int) or (K.Decimal, K.Float) or (K.Float, K.Decimal)) Kind = K.Float;
                else if ((Kind, k) is (K.Int, K.Decimal) or (K.Decimal, K.Int)) Kind = K.Decimal;
                else if ((Kind, k) is (K.Date, K.Timestamp) or (K.Timestamp, K.Date)) Kind = K.Timestamp;
                else Kind = K.String;
            }
            switch (v)
            {
                case Timestamp t:
                    if (t.OffsetMinutes is not null) Zoned = true;
                    if (t.Nanoseconds % 1000 != 0) Nanos = true;
                    break;
                case DecimalNumber d:
                    int scale = Math.Max(0, d.Scale);
                    Scale = Math.Max(Scale, scale);
                    IntDigits = Math.Max(IntDigits, BigInteger.Abs(d.Unscaled).ToString().Length - scale);
                    break;
                case BigInteger b:
                    IntDigits = Math.Max(IntDigits, BigInteger.Abs(b).ToString().Length);
                    break;
                case long l:
                    IntDigits = Math.Max(IntDigits, Math.Abs((decimal)l).ToString().Length);
                    break;
                case List<object?> list:
                    Item ??= new Guess();
                    foreach (var item in list) Item.Add(item, depth + 1);
                    break;
                case Dictionary<string, object?> map:
                    Fields ??= new();
                    foreach (var (key, item) in map)
                    {
                        int i = Fields.FindIndex(f => f.Name == key);
                        if (i < 0) { Fields.Add((key, new Guess())); i = Fields.Count - 1; }
                        Fields[i].Guess.Add(item, depth + 1);
                    }
                    break;
            }
        }

        public IArrowType ToType() => Kind switch
        {
            K.Bool => BooleanType.Default,
            K.Int => Int64Type.Default,
            K.Float => DoubleType.Default,
            K.Decimal when Scale + IntDigits <= 38 => new Decimal128Type(38, Scale),
            K.Bytes => BinaryType.Default,
            K.Timestamp => new TimestampType(Nanos ? TimeUnit.Nanosecond : TimeUnit.Microsecond, Zoned ? "UTC" : null as string),
            K.Date => Date32Type.Default,
            K.Time => new Time64Type(TimeUnit.Microsecond),
            K.Uuid => new FixedSizeBinaryType(16),
            K.List => new ListType(ToField("item", Item ?? new Guess())),
            K.Struct when Fields is { Count: > 0 } => new StructType(Fields.Select(f => ToField(f.Name, f.Guess)).ToList()),
            _ => StringType.Default,
        };
    }

    static K KindOf(object v) => v switch
    {
        bool => K.Bool,
        long or int or BigInteger => v is BigInteger ? K.Decimal : K.Int,
        double => K.Float,
        DecimalNumber => K.Decimal,
        string => K.String,
        byte[] => K.Bytes,
        Timestamp => K.Timestamp,
        DateOnly => K.Date,
        TimeOnly => K.Time,
        Guid => K.Uuid,
        List<object?> => K.List,
        Dictionary<string, object?> => K.Struct,
        _ => K.String,
    };

    static Field ToField(string name, Guess g) =>
        g.Kind == K.Uuid ? ArrowCells.UuidField(name) : new Field(name, g.ToType(), true);

    public static Schema Infer(IReadOnlyList<Dictionary<string, object?>> rows)
    {
        var columns = new List<(string Name, Guess Guess)>();
        var index = new Dictionary<string, int>();
        foreach (var row in rows)
            foreach (var (key, value) in row)
            {
                if (!index.TryGetValue(key, out var i)) { i = columns.Count; index[key] = i; columns.Add((key, new Guess())); }
                columns[i].Guess.Add(value, 1);
            }
        var b = new Schema.Builder();
        foreach (var (name, g) in columns) b.Field(ToField(name, g));
        return b.Build();
    }
}
