namespace Brine.Objects;

/// <summary>How CLR member names become names in the data.</summary>
public enum MemberNaming
{
    /// <summary>The CLR name as declared (<c>RegisteredAt</c>).</summary>
    AsIs,
    /// <summary>Python style (<c>RegisteredAt</c> ↔ <c>registered_at</c>).</summary>
    SnakeCase,
}

/// <summary>Options for <see cref="ObjectWriter"/> and <see cref="ObjectReader"/>.</summary>
public sealed class ObjectOptions
{
    public static ObjectOptions Default { get; } = new();

    /// <summary>Which types reading may create, and the names types are written under.</summary>
    public TypePolicy Types { get; init; } = TypePolicy.Default;

    /// <summary>How member names are spelled in the data. A <c>[DataMember(Name=…)]</c> name is always used as given.</summary>
    public MemberNaming Naming { get; init; } = MemberNaming.AsIs;

    /// <summary>When true, a member in the data that the type does not have is an error naming it; otherwise it is skipped.</summary>
    public bool Strict { get; init; }
}
