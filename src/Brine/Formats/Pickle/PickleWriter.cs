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
public sealed class PickleWriter : TreeWriter
{
    public const int DefaultProtocol = 4;

    readonly Stream _output;
    readonly bool _leaveOpen;
    readonly PickleEncoder _encoder;
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

    protected override void OnValue(Node root)
    {
        if (_finished) throw Error("the writer is finished");
        _encoder.Encode(root);
    }

    /// <summary>
    /// Writes a CLR object graph as one pickle straight from the objects: the bytes the object token stream would
    /// give, much faster. False (nothing written) when the graph holds what only the token path handles.
    /// </summary>
    internal bool TryWriteObjects(object? value, Brine.Objects.ObjectOptions options)
    {
        if (_finished || InsideValue || PendingTag is not null || PendingAnchor is not null) return false;
        return _encoder.TryEncodeObjects(value, options);
    }

    /// <summary>Writes a whole graph as one pickle (shared nodes become memo references).</summary>
    public void WriteNode(Node root)
    {
        if (InsideValue) throw Error("WriteNode inside an open value");
        OnValue(root);
    }

    public override void Finish()
    {
        if (_finished) return;
        if (InsideValue) throw Error("the last value is not complete");
        _finished = true;
        _output.Flush();
    }

    public override void Dispose()
    {
        if (!_leaveOpen) _output.Dispose();
        base.Dispose();
    }
}
