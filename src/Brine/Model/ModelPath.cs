using System.Text;

namespace Brine.Model;

/// <summary>
/// Tracks where a token stream is, as a path like <c>$.program.days[1]</c>, for error messages.
/// Feed it every token with <see cref="Step"/>; it keeps one small frame per open container.
/// </summary>
public sealed class ModelPath
{
    struct Frame { public bool IsMap; public long Index; public bool ExpectKey; public object? Key; }
    // An array used as a stack, its frames changed in place: this runs for every token of a conversion.
    Frame[] _frames = new Frame[16];
    int _depth;

    public int Depth => _depth;

    /// <summary>Call with each token, before or after handling it; keys are recorded as they pass.</summary>
    /// <remarks>Only a map key's value is asked of the reader, so a string value that a reader makes lazily is never made here.</remarks>
    public void Step(TokenReader r)
    {
        var kind = r.Kind;
        if (_depth > 0)
        {
            ref var f = ref _frames[_depth - 1];
            if (f.IsMap && f.ExpectKey && !kind.IsEnd())
            {
                f.Key = kind == TokenKind.String ? r.StringValue : kind == TokenKind.Int ? r.Int64Value : kind.ToString().ToLowerInvariant();
                f.ExpectKey = false;
                return;
            }
        }
        Step(kind);
    }

    public void Step(TokenKind kind, object? scalar)
    {
        if (_depth > 0 && !kind.IsEnd())
        {
            ref var f = ref _frames[_depth - 1];
            if (f.IsMap && f.ExpectKey)
            {
                f.Key = scalar ?? kind.ToString().ToLowerInvariant();
                f.ExpectKey = false;
                return;
            }
        }
        Step(kind);
    }

    /// <summary>A token that is not a map key.</summary>
    void Step(TokenKind kind)
    {
        if (kind.IsEnd()) { if (_depth > 0) _depth--; AfterValue(); return; }
        if (kind.IsStart())
        {
            if (_depth == _frames.Length) Array.Resize(ref _frames, _depth * 2);
            _frames[_depth++] = new Frame { IsMap = kind == TokenKind.StartMap, ExpectKey = true, Index = 0 };
            return;
        }
        AfterValue();
    }

    void AfterValue()
    {
        if (_depth == 0) return;
        ref var f = ref _frames[_depth - 1];
        if (f.IsMap) f.ExpectKey = true; else f.Index++;
    }

    public override string ToString()
    {
        var sb = new StringBuilder("$");
        foreach (var f in _frames.AsSpan(0, _depth))
        {
            if (!f.IsMap) sb.Append('[').Append(f.Index).Append(']');
            else if (f.Key is string s && IsIdentifier(s)) sb.Append('.').Append(s);
            else if (f.Key is not null && !f.ExpectKey) sb.Append("[").Append(f.Key is string q ? "'" + q + "'" : f.Key).Append(']');
        }
        return sb.ToString();
    }

    static bool IsIdentifier(string s) => s.Length > 0 && !char.IsDigit(s[0]) && s.All(c => char.IsLetterOrDigit(c) || c == '_');
}
