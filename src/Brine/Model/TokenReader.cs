using System.Numerics;

namespace Brine.Model;

/// <summary>
/// A pull reader of Brine's token stream. Call <see cref="Read"/> to advance; inspect <see cref="Kind"/>,
/// <see cref="Tag"/>, <see cref="Anchor"/> and the value property for the kind. A stream holds zero or more
/// top-level values (documents or records): a JSON Lines file, a YAML stream, concatenated BSON.
/// </summary>
/// <remarks>Value properties are plain fields on purpose: readers set them without allocation or copying
/// (all but <see cref="StringValue"/>, which a reader may make lazily).</remarks>
public abstract class TokenReader : IDisposable
{
    public TokenKind Kind { get; protected set; }
    /// <summary>The type the node stands for (<c>set</c>, <c>tuple</c>, <c>models.User</c>, a format's own tag), or null.</summary>
    public string? Tag { get; protected set; }
    /// <summary>An id a later <see cref="TokenKind.Alias"/> may refer to, or null.</summary>
    public string? Anchor { get; protected set; }
    /// <summary>For <see cref="TokenKind.StartList"/> and <see cref="TokenKind.StartMap"/>: the number of items (map entries) when the format says it up front, else -1.</summary>
    public int Count { get; protected set; } = -1;

    public bool BoolValue;
    /// <summary>The integer when <see cref="BigValue"/> is null.</summary>
    public long Int64Value;
    /// <summary>Set only for integers outside the range of <see cref="long"/>.</summary>
    public BigInteger? BigValue;
    public double DoubleValue;
    public DecimalNumber DecimalValue;
    /// <summary>The string, or for <see cref="TokenKind.Alias"/> the anchor it refers to.</summary>
    /// <remarks>A property, not a field, so that a reader may make the string only when someone asks for it
    /// (<see cref="DeferStringValue"/>): a conversion that copies UTF-8 through <see cref="TryGetUtf8"/> allocates none.</remarks>
    public string? StringValue
    {
        get => _stringDeferred ? LoadStringValue() : _stringValue;
        protected set { _stringValue = value; _stringDeferred = false; }
    }
    string? _stringValue;
    bool _stringDeferred;
    public byte[]? BytesValue;
    public Timestamp TimestampValue;
    public DateOnly DateValue;
    public TimeOnly TimeValue;
    public Guid UuidValue;

    /// <summary>The short name of the format being read, for error messages (<c>json</c>, <c>yaml</c>).</summary>
    public abstract string FormatName { get; }

    /// <summary>Where the reader is, for error messages: <c>line 3, column 7</c> or <c>byte 1042</c>.</summary>
    public virtual string Location => "";

    /// <summary>Advances to the next token. Returns false at the end of the stream.</summary>
    public abstract bool Read();

    /// <summary>
    /// For readers that run each value into a <see cref="Node"/> graph before emitting it (pickle): at a value
    /// boundary, hands the next value's graph over whole (null at the end of the stream) and returns true, so
    /// <see cref="NodeBuilder"/> need not rebuild what the reader already built. False: read tokens instead.
    /// </summary>
    internal virtual bool TryTakeNode(out Node? value) { value = null; return false; }

    /// <summary>The integer as a <see cref="BigInteger"/> whatever its size.</summary>
    public BigInteger IntegerValue => BigValue ?? Int64Value;

    /// <summary>For the current string token: its UTF-8 bytes when the reader holds them already (no transcoding needed).</summary>
    public virtual bool TryGetUtf8(out ReadOnlySpan<byte> utf8) { utf8 = default; return false; }

    /// <summary>Sets <see cref="Kind"/> and the value of a scalar node (for readers that walk a <see cref="Node"/> graph).</summary>
    protected void LoadScalar(Node n)
    {
        Kind = n.Kind;
        switch (n.Kind)
        {
            case TokenKind.Bool: BoolValue = (bool)n.Value!; break;
            case TokenKind.Int:
                if (n.Value is long l) Int64Value = l; else BigValue = (BigInteger)n.Value!;
                break;
            case TokenKind.Float: DoubleValue = (double)n.Value!; break;
            case TokenKind.Decimal: DecimalValue = (DecimalNumber)n.Value!; break;
            case TokenKind.String: StringValue = (string)n.Value!; break;
            case TokenKind.Bytes: BytesValue = (byte[])n.Value!; break;
            case TokenKind.Timestamp: TimestampValue = (Timestamp)n.Value!; break;
            case TokenKind.Date: DateValue = (DateOnly)n.Value!; break;
            case TokenKind.Time: TimeValue = (TimeOnly)n.Value!; break;
            case TokenKind.Uuid: UuidValue = (Guid)n.Value!; break;
        }
    }

    protected void ResetNodeInfo() { Tag = null; Anchor = null; Count = -1; BigValue = null; _stringDeferred = false; }

    /// <summary>Marks the current string as not made yet: the first read of <see cref="StringValue"/> calls <see cref="MakeStringValue"/>.</summary>
    protected void DeferStringValue() => _stringDeferred = true;

    /// <summary>Makes the current token's string, for a reader that deferred it; it must stay valid until the next <see cref="Read"/>.</summary>
    protected virtual string MakeStringValue() => throw new InvalidOperationException(GetType().Name + " deferred a string it cannot make");

    string LoadStringValue()
    {
        var s = MakeStringValue();
        _stringValue = s;
        _stringDeferred = false;
        return s;
    }

    protected BrineFormatException Error(string message) => new(FormatName, Location, message);

    public virtual void Dispose() { GC.SuppressFinalize(this); }
}
