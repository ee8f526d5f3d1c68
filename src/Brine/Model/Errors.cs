namespace Brine.Model;

/// <summary>The base of every error Brine raises on purpose.</summary>
public class BrineException : Exception
{
    public BrineException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// Bad input: names the format, the place (line/column or byte offset, and the path such as
/// <c>$.program.days[1]</c> when known) and what was expected. The CLI exits 2 for these.
/// </summary>
public class BrineFormatException : BrineException
{
    public string Format { get; }
    public string Location { get; }
    public string? ModelPath { get; private set; }
    public string Detail { get; }

    public BrineFormatException(string format, string location, string detail, Exception? inner = null)
        : base(Compose(format, location, null, detail), inner)
    { Format = format; Location = location; Detail = detail; }

    protected BrineFormatException(string format, string location, string? path, string detail, Exception? inner)
        : base(Compose(format, location, path, detail), inner)
    { Format = format; Location = location; ModelPath = path; Detail = detail; }

    /// <summary>The same error with the model path added (the pump knows it, the reader may not).</summary>
    public BrineFormatException WithPath(string path) =>
        ModelPath is null ? WithPathCore(path) : this;

    /// <summary>Keeps the exception's type (a limit stays a <see cref="BrineLimitException"/>).</summary>
    protected virtual BrineFormatException WithPathCore(string path) => new(Format, Location, path, Detail, InnerException ?? this);

    static string Compose(string format, string location, string? path, string detail)
    {
        var where = string.Join(", ", new[] { location, path is null || path == "$" ? "" : "at " + path }.Where(s => s.Length > 0));
        return where.Length > 0 ? $"{format}: {where}: {detail}" : $"{format}: {detail}";
    }
}

/// <summary>Bad arguments or options (an unknown format, a missing file). The CLI exits 2.</summary>
public class BrineUsageException : BrineException
{
    public BrineUsageException(string message) : base(message) { }
}

/// <summary>A safety limit was reached (depth, size, alias expansion, a type the policy refuses). The CLI exits 2.</summary>
public class BrineLimitException : BrineFormatException
{
    public BrineLimitException(string format, string location, string detail) : base(format, location, detail) { }

    BrineLimitException(string format, string location, string path, string detail, Exception? inner) : base(format, location, path, detail, inner) { }

    protected override BrineFormatException WithPathCore(string path) => new BrineLimitException(Format, Location, path, Detail, InnerException ?? this);
}
