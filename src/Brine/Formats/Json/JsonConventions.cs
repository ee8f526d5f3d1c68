namespace Brine.Formats.Json;

/// <summary>
/// The object conventions JSON files use for what plain JSON lacks. jsonpickle (Python): <c>py/object</c>,
/// <c>py/state</c>, <c>py/tuple</c>, <c>py/set</c>, <c>py/b64</c>, <c>py/id</c>. System.Text.Json reference
/// preservation: <c>$id</c>, <c>$ref</c>, <c>$values</c>.
/// </summary>
internal static class JsonConventions
{
    public const string SettingName = "conventions";

    public static ReadOnlySpan<byte> PyObject => "py/object"u8;
    public static ReadOnlySpan<byte> PyState => "py/state"u8;
    public static ReadOnlySpan<byte> PyTuple => "py/tuple"u8;
    public static ReadOnlySpan<byte> PySet => "py/set"u8;
    public static ReadOnlySpan<byte> PyB64 => "py/b64"u8;
    public static ReadOnlySpan<byte> PyId => "py/id"u8;
    public static ReadOnlySpan<byte> PyType => "py/type"u8;
    public static ReadOnlySpan<byte> PyFunction => "py/function"u8;
    public static ReadOnlySpan<byte> DollarId => "$id"u8;
    public static ReadOnlySpan<byte> DollarRef => "$ref"u8;
    public static ReadOnlySpan<byte> DollarValues => "$values"u8;

    /// <summary>Whether conventions are on for these settings (<c>conventions=none</c> turns them off).</summary>
    public static bool Enabled(string? setting) => setting is null || !string.Equals(setting, "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>The anchor name Brine gives the object jsonpickle numbers <paramref name="id"/>.</summary>
    public static string AnchorOf(int id) => "id" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
