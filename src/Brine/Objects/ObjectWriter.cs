using Brine.Formats;
using Brine.Model;

namespace Brine.Objects;

/// <summary>
/// Writes CLR object graphs to any format: objects become maps tagged with their type name, lists, sets (lists
/// tagged <c>set</c>), tuples (lists tagged <c>tuple</c>) and scalars; shared references and cycles become
/// anchors and aliases. See <see cref="ObjectTokenReader"/> for the token stream itself.
/// </summary>
public static class ObjectWriter
{
    /// <summary>Writes <paramref name="value"/> as one top-level value. Does not call <see cref="TokenWriter.Finish"/>.</summary>
    public static void Write(TokenWriter writer, object? value, ObjectOptions? options = null)
    {
        // Pickle has a direct path that makes no tokens (same bytes); it declines graphs it does not cover.
        if (writer is Brine.Formats.Pickle.PickleWriter pickle && pickle.TryWriteObjects(value, options ?? ObjectOptions.Default)) return;
        using var r = new ObjectTokenReader(value, options);
        TokenPump.Copy(r, writer);
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="output"/> in <paramref name="format"/>, references kept.</summary>
    public static void Write(Stream output, Format format, object? value, ObjectOptions? options = null, WriteOptions? writeOptions = null)
    {
        using var w = format.CreateWriter(output, writeOptions ?? new WriteOptions { KeepReferences = true });
        Write(w, value, options);
        w.Finish();
    }

    /// <summary>
    /// <paramref name="value"/> in <paramref name="format"/> as one byte array, references kept (gathered in pooled
    /// segments, then copied once into an array of the exact size).
    /// </summary>
    public static byte[] ToBytes(Format format, object? value, ObjectOptions? options = null, WriteOptions? writeOptions = null)
    {
        var buffer = new Brine.IO.SegmentBuffer();
        try
        {
            Write(buffer, format, value, options, writeOptions);
            return buffer.ToArray();
        }
        finally { buffer.Release(); }
    }

    /// <summary>The object graph as a <see cref="Node"/> graph (shared objects become shared nodes).</summary>
    public static Node ToNode(object? value, ObjectOptions? options = null)
    {
        using var r = new ObjectTokenReader(value, options);
        return NodeBuilder.ReadValue(r)!;
    }
}
