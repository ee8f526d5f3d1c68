using Brine.Model;
using AvroSchema = Avro.Schema;

namespace Brine.Formats.Avro;

/// <summary>
/// Writes each top-level value as one record of an Avro container file. The writer schema comes from
/// <see cref="WriteOptions.SchemaPath"/> or is inferred from the first <see cref="SampleSize"/> records
/// (<see cref="AvroSchemaInference"/>); records are then encoded by <see cref="AvroNodeEncoder"/>.
/// </summary>
internal sealed class AvroTokenWriter : RowCollector
{
    public const int SampleSize = 1000;

    readonly Stream _output;
    readonly WriteOptions _options;
    AvroSchema? _schema;
    AvroBlockWriter? _blocks;
    readonly List<Node> _sample = new();
    readonly AvroNodeEncoder _encoder = new();
    bool _finished;

    public AvroTokenWriter(Stream output, WriteOptions options)
    {
        _output = output; _options = options;
        if (options.SchemaPath is not null) Start(AvroFormat.LoadSchemaFile(options.SchemaPath));
    }

    public override string FormatName => "avro";

    void Start(AvroSchema schema)
    {
        _schema = schema;
        _blocks = new AvroBlockWriter(_output, schema.ToString(), AvroFormat.CodecFromSettings(_options.Setting("compression") ?? _options.Setting("codec"), _options.Setting("level")));
    }

    protected override void OnValue(Node value)
    {
        if (_schema is null)
        {
            _sample.Add(value);
            if (_sample.Count >= SampleSize) StartFromSample();
            return;
        }
        Encode(value);
    }

    void StartFromSample()
    {
        Start(AvroSchema.Parse(_sample.Count == 0 ? """{"type":"record","name":"Row","fields":[]}""" : AvroSchemaInference.Infer(_sample)));
        foreach (var v in _sample) Encode(v);
        _sample.Clear();
    }

    void Encode(Node value)
    {
        _encoder.Encode(value, _schema!, _blocks!.Encoder);
        _encoder.Record++;
        _blocks.RecordDone();
    }

    public override void Finish()
    {
        if (_finished) return;
        _finished = true;
        if (InsideValue) throw Error("the last record is incomplete");
        if (_schema is null) StartFromSample();
        _blocks!.Finish();
    }
}

/// <summary>Gathers encoded records into blocks of about 64 KiB (or 16 384 records) and writes them to the container.</summary>
internal sealed class AvroBlockWriter
{
    public const int BlockBytes = 64 * 1024;
    public const int BlockRecords = 16_384;

    readonly AvroContainerWriter _file;
    public readonly AvroEncoder Encoder = new();
    long _count;

    public AvroBlockWriter(Stream output, string schemaJson, AvroCodec codec) => _file = new AvroContainerWriter(output, schemaJson, codec);

    public void RecordDone()
    {
        _count++;
        if (Encoder.Length >= BlockBytes || _count >= BlockRecords) Flush();
    }

    void Flush()
    {
        _file.WriteBlock(_count, Encoder.Written);
        Encoder.Clear();
        _count = 0;
    }

    public void Finish()
    {
        if (_count > 0) Flush();
        _file.Flush();
    }
}
