using System.Globalization;
using System.Numerics;
using Brine.Model;

namespace Brine.Formats.Pickle;

/// <summary>
/// Writes Brine tokens as Python pickles (protocols 0–5, default 4; setting <c>protocol</c>). Each top-level value
/// becomes one pickle; several are concatenated as repeated <c>pickle.dump</c> calls write them. Pickle's memo needs
/// to know what is shared before writing, so each value is gathered into a <see cref="Node"/> graph (anchors and
/// aliases become shared nodes) and then encoded by <see cref="PickleEncoder"/>, which writes the bytes CPython's
/// <c>pickle.dumps</c> writes for the same data.
/// </summary>
public sealed class PickleWriter : TokenWriter
{
    public const int DefaultProtocol = 4;

    readonly Stream _output;
    readonly bool _leaveOpen;
    readonly PickleEncoder _encoder;
    readonly List<(Node container, Node? key)> _stack = new();
    readonly Dictionary<string, Node> _anchors = new(StringComparer.Ordinal);
    bool _finished;

    public int Protocol { get; }

    /// <param name="bufferCallback">Protocol 5 out-of-band buffers: called with the data of each bytes value tagged
    /// <c>picklebuffer</c> (and of untagged bytes of at least <paramref name="outOfBandMinBytes"/>); return true to take
    /// it out of band (the pickle then holds NEXT_BUFFER), false to keep it in the pickle.</param>
    /// <param name="outOfBandMinBytes">Untagged bytes this long or longer are offered to <paramref name="bufferCallback"/> too (setting <c>oob-min</c>).</param>
    public PickleWriter(Stream output, WriteOptions? options = null, Func<ReadOnlyMemory<byte>, bool>? bufferCallback = null,
        long? outOfBandMinBytes = null, bool leaveOpen = false, int? protocol = null)
    {
        options ??= WriteOptions.Default;
        _output = output;
        _leaveOpen = leaveOpen;
        Protocol = protocol ?? ParseProtocol(options.Setting("protocol"));
        if (Protocol is < 0 or > PickleOpcodes.HighestProtocol) throw new BrineUsageException($"pickle: protocol {Protocol} is not one of 0–{PickleOpcodes.HighestProtocol}");
        long oobMin = outOfBandMinBytes ?? (long.TryParse(options.Setting("oob-min"), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : long.MaxValue);
        _encoder = new PickleEncoder(output, Protocol, bufferCallback, oobMin);
    }

    static int ParseProtocol(string? s)
    {
        if (s is null) return DefaultProtocol;
        if (s.Equals("highest", StringComparison.OrdinalIgnoreCase)) return PickleOpcodes.HighestProtocol;
        return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p
            : throw new BrineUsageException($"pickle: protocol '{s}' is not a number 0–{PickleOpcodes.HighestProtocol}");
    }

    public override string FormatName => "pickle";

    void Add(Node n)
    {
        if (_finished) throw Error("the writer is finished");
        if (PendingTag is { } tag) { n.Tag = tag; PendingTag = null; }
        if (PendingAnchor is { } anchor) { _anchors[anchor] = n; PendingAnchor = null; }
        Attach(n);
        if (n.IsList || n.IsMap) _stack.Add((n, null));
        else if (_stack.Count == 0) Complete(n);
    }

    void Attach(Node n)
    {
        if (_stack.Count == 0) return;
        var (parent, key) = _stack[^1];
        if (parent.IsList) { parent.Items!.Add(n); return; }
        if (key is null)
        {
            if (!n.IsScalar) throw Error("a map key must be a scalar");
            _stack[^1] = (parent, n);
        }
        else
        {
            parent.Entries!.Add(new(key, n));
            _stack[^1] = (parent, null);
        }
    }

    void Complete(Node root)
    {
        _encoder.Encode(root);
        _anchors.Clear();
    }

    void End(bool list)
    {
        if (_stack.Count == 0 || _stack[^1].container.IsList != list) throw Error("unbalanced end of " + (list ? "list" : "map"));
        var (top, key) = _stack[^1];
        if (key is not null) throw Error("a map ended after a key with no value");
        _stack.RemoveAt(_stack.Count - 1);
        if (_stack.Count == 0) Complete(top);
    }

    public override void WriteNull() => Add(Node.Null());
    public override void WriteBool(bool value) => Add(Node.Bool(value));
    public override void WriteInt(long value) => Add(Node.Int(value));
    public override void WriteBigInt(BigInteger value) => Add(Node.Int(value));
    public override void WriteFloat(double value) => Add(Node.Float(value));
    public override void WriteDecimal(DecimalNumber value) => Add(Node.Decimal(value));
    public override void WriteString(string value) => Add(Node.String(value));
    public override void WriteBytes(ReadOnlySpan<byte> value) => Add(Node.Bytes(value.ToArray()));
    public override void WriteTimestamp(Timestamp value) => Add(Node.Timestamp(value));
    public override void WriteDate(DateOnly value) => Add(Node.Date(value));
    public override void WriteTime(TimeOnly value) => Add(Node.Time(value));
    public override void WriteUuid(Guid value) => Add(Node.Uuid(value));
    public override void StartList(int count = -1) => Add(Node.List());
    public override void EndList() => End(list: true);
    public override void StartMap(int count = -1) => Add(Node.Map());
    public override void EndMap() => End(list: false);

    public override void WriteAlias(string anchor)
    {
        if (!_anchors.TryGetValue(anchor, out var target)) throw Error($"alias '{anchor}' refers to no earlier anchor");
        PendingTag = null;
        Attach(target);
        if (_stack.Count == 0) Complete(target);
    }

    /// <summary>
    /// Writes a CLR object graph as one pickle straight from the objects: the bytes the object token stream would
    /// give, much faster. False (nothing written) when the graph holds what only the token path handles.
    /// </summary>
    internal bool TryWriteObjects(object? value, Brine.Objects.ObjectOptions options)
    {
        if (_finished || _stack.Count > 0 || PendingTag is not null || PendingAnchor is not null) return false;
        return _encoder.TryEncodeObjects(value, options);
    }

    /// <summary>Writes a whole graph as one pickle (shared nodes become memo references).</summary>
    public void WriteNode(Node root)
    {
        if (_stack.Count > 0) throw Error("WriteNode inside an open value");
        Complete(root);
    }

    public override void Finish()
    {
        if (_finished) return;
        if (_stack.Count > 0) throw Error("the last value is not complete");
        _finished = true;
        _output.Flush();
    }

    public override void Dispose()
    {
        if (!_leaveOpen) _output.Dispose();
        base.Dispose();
    }
}
