using System.Numerics;
using System.Text;

namespace Brine.Model;

/// <summary>
/// A push writer of Brine's token stream. Before a start or scalar, <see cref="SetTag"/> and <see cref="SetAnchor"/>
/// attach a tag or anchor to the next node. Each top-level value is one document or record; call
/// <see cref="Finish"/> once at the end.
/// </summary>
public abstract class TokenWriter : IDisposable
{
    protected string? PendingTag;
    protected string? PendingAnchor;

    public abstract string FormatName { get; }

    /// <summary>Attaches a tag to the next node. Writers without tags use their convention or refuse.</summary>
    public virtual void SetTag(string tag) => PendingTag = tag;
    /// <summary>Attaches an anchor to the next node so that a later <see cref="WriteAlias"/> can refer to it.</summary>
    public virtual void SetAnchor(string anchor) => PendingAnchor = anchor;

    public abstract void WriteNull();
    public abstract void WriteBool(bool value);
    public abstract void WriteInt(long value);
    public abstract void WriteBigInt(BigInteger value);
    public abstract void WriteFloat(double value);
    public abstract void WriteDecimal(DecimalNumber value);
    public abstract void WriteString(string value);
    /// <summary>Writes a string given as UTF-8. Override when the format can copy the bytes directly.</summary>
    public virtual void WriteStringUtf8(ReadOnlySpan<byte> utf8) => WriteString(Encoding.UTF8.GetString(utf8));
    public abstract void WriteBytes(ReadOnlySpan<byte> value);
    public abstract void WriteTimestamp(Timestamp value);
    public abstract void WriteDate(DateOnly value);
    public abstract void WriteTime(TimeOnly value);
    public abstract void WriteUuid(Guid value);
    /// <param name="count">The number of items when known, else -1.</param>
    public abstract void StartList(int count = -1);
    public abstract void EndList();
    /// <param name="count">The number of entries when known, else -1.</param>
    public abstract void StartMap(int count = -1);
    public abstract void EndMap();
    /// <summary>Refers back to a node written with <paramref name="anchor"/>.</summary>
    public abstract void WriteAlias(string anchor);

    /// <summary>A scalar node, through the write method of its kind (what a <see cref="NodeReader"/> on it gives).</summary>
    public void WriteScalarNode(Node n)
    {
        switch (n.Kind)
        {
            case TokenKind.Null: WriteNull(); break;
            case TokenKind.Bool: WriteBool((bool)n.Value!); break;
            case TokenKind.Int: if (n.Value is long l) WriteInt(l); else WriteBigInt((BigInteger)n.Value!); break;
            case TokenKind.Float: WriteFloat((double)n.Value!); break;
            case TokenKind.Decimal: WriteDecimal((DecimalNumber)n.Value!); break;
            case TokenKind.String: WriteString((string)n.Value!); break;
            case TokenKind.Bytes: WriteBytes((byte[])n.Value!); break;
            case TokenKind.Timestamp: WriteTimestamp((Timestamp)n.Value!); break;
            case TokenKind.Date: WriteDate((DateOnly)n.Value!); break;
            case TokenKind.Time: WriteTime((TimeOnly)n.Value!); break;
            case TokenKind.Uuid: WriteUuid((Guid)n.Value!); break;
            default: throw new InvalidOperationException("not a scalar: " + n.Kind);
        }
    }

    /// <summary>Ends the stream: closes documents and flushes. Nothing may be written after.</summary>
    public abstract void Finish();

    /// <summary>Refuses a string holding a lone UTF-16 surrogate, which UTF-8 formats cannot keep (the encoder would
    /// silently write U+FFFD instead).</summary>
    protected void RequireWellFormed(string value)
    {
        var span = value.AsSpan();
        int i = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0)
        {
            bool pair = char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]);
            if (!pair) throw Error($"a string holds a lone UTF-16 surrogate (U+{(int)span[i]:X4} at index {i}); {FormatName} text is UTF-8 and cannot keep it");
            int next = span[(i + 2)..].IndexOfAnyInRange('\uD800', '\uDFFF');
            i = next < 0 ? -1 : i + 2 + next;
        }
    }

    protected BrineFormatException Error(string message) => new(FormatName, "", message);

    public virtual void Dispose() { GC.SuppressFinalize(this); }
}
