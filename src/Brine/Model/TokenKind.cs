namespace Brine.Model;

/// <summary>The kinds of token in Brine's data model. Every format reads into and writes from this stream.</summary>
public enum TokenKind : byte
{
    /// <summary>Before the first <see cref="TokenReader.Read"/> or after the end of the stream.</summary>
    None = 0,
    Null,
    Bool,
    /// <summary>An integer: <see cref="TokenReader.Int64Value"/> when it fits, else <see cref="TokenReader.BigValue"/>.</summary>
    Int,
    Float,
    /// <summary>An exact decimal number of any precision (<see cref="DecimalNumber"/>).</summary>
    Decimal,
    String,
    Bytes,
    Timestamp,
    Date,
    Time,
    Uuid,
    StartList,
    EndList,
    /// <summary>A map. Keys are scalars; each key is followed by its value.</summary>
    StartMap,
    EndMap,
    /// <summary>A reference back to an earlier node that carried <see cref="TokenReader.Anchor"/>.</summary>
    Alias,
}

public static class TokenKinds
{
    public static bool IsScalar(this TokenKind k) => k is >= TokenKind.Null and <= TokenKind.Uuid;
    public static bool IsStart(this TokenKind k) => k is TokenKind.StartList or TokenKind.StartMap;
    public static bool IsEnd(this TokenKind k) => k is TokenKind.EndList or TokenKind.EndMap;
}
