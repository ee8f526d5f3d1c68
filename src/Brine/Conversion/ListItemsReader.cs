using Brine.Model;

namespace Brine.Conversion;

/// <summary>
/// Presents the items of a top-level list as top-level values, so that a JSON array or a table becomes one
/// record a line in JSON Lines. Any other top-level value passes through unchanged.
/// </summary>
public sealed class ListItemsReader(TokenReader inner) : TokenReader
{
    int _depth;
    bool _unwrapping;

    public override string FormatName => inner.FormatName;
    public override string Location => inner.Location;

    public override bool Read()
    {
        while (true)
        {
            if (!inner.Read()) { Kind = TokenKind.None; return false; }
            if (_depth == 0 && inner.Kind == TokenKind.StartList && inner.Tag is null && inner.Anchor is null) { _unwrapping = true; _depth++; continue; }
            if (_unwrapping && _depth == 1 && inner.Kind == TokenKind.EndList) { _unwrapping = false; _depth--; continue; }
            if (inner.Kind.IsStart()) _depth++;
            else if (inner.Kind.IsEnd()) _depth--;
            Copy();
            return true;
        }
    }

    public override bool TryGetUtf8(out ReadOnlySpan<byte> utf8) => inner.TryGetUtf8(out utf8);

    void Copy()
    {
        Kind = inner.Kind; Tag = inner.Tag; Anchor = inner.Anchor; Count = inner.Count;
        BoolValue = inner.BoolValue; Int64Value = inner.Int64Value; BigValue = inner.BigValue; DoubleValue = inner.DoubleValue;
        DecimalValue = inner.DecimalValue; StringValue = inner.StringValue; BytesValue = inner.BytesValue;
        TimestampValue = inner.TimestampValue; DateValue = inner.DateValue; TimeValue = inner.TimeValue; UuidValue = inner.UuidValue;
    }

    public override void Dispose() { inner.Dispose(); base.Dispose(); }
}
