using System.Text;

namespace Brine.Model;

/// <summary>
/// Tracks where a token stream is, as a path like <c>$.program.days[1]</c>, for error messages.
/// Feed it every token with <see cref="Step"/>; it keeps one small frame per open container.
/// </summary>
public sealed class ModelPath
{
    struct Frame { public bool IsMap; public long Index; public bool ExpectKey; public object? Key; }
    readonly List<Frame> _frames = new();

    public int Depth => _frames.Count;

    /// <summary>Call with each token, before or after handling it; keys are recorded as they pass.</summary>
    public void Step(TokenReader r) => Step(r.Kind, r.Kind == TokenKind.String ? r.StringValue : r.Kind == TokenKind.Int ? r.Int64Value : null);

    public void Step(TokenKind kind, object? scalar)
    {
        if (kind.IsEnd()) { if (_frames.Count > 0) _frames.RemoveAt(_frames.Count - 1); AfterValue(); return; }
        if (_frames.Count > 0)
        {
            var f = _frames[^1];
            if (f.IsMap && f.ExpectKey)
            {
                f.Key = scalar ?? kind.ToString().ToLowerInvariant();
                f.ExpectKey = false;
                _frames[^1] = f;
                return;
            }
        }
        if (kind.IsStart()) { _frames.Add(new Frame { IsMap = kind == TokenKind.StartMap, ExpectKey = true, Index = 0 }); return; }
        AfterValue();
    }

    void AfterValue()
    {
        if (_frames.Count == 0) return;
        var f = _frames[^1];
        if (f.IsMap) f.ExpectKey = true; else f.Index++;
        _frames[^1] = f;
    }

    public override string ToString()
    {
        var sb = new StringBuilder("$");
        foreach (var f in _frames)
        {
            if (!f.IsMap) sb.Append('[').Append(f.Index).Append(']');
            else if (f.Key is string s && IsIdentifier(s)) sb.Append('.').Append(s);
            else if (f.Key is not null && !f.ExpectKey) sb.Append("[").Append(f.Key is string q ? "'" + q + "'" : f.Key).Append(']');
        }
        return sb.ToString();
    }

    static bool IsIdentifier(string s) => s.Length > 0 && !char.IsDigit(s[0]) && s.All(c => char.IsLetterOrDigit(c) || c == '_');
}
