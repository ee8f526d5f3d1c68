using System.Globalization;
using System.Text;
using Brine.Model;

namespace Brine.Tabular.Filtering;

public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>
/// A parsed <c>--where</c> expression: comparisons of a column with a literal, <c>IN (…)</c>,
/// <c>IS [NOT] NULL</c>, combined with <c>AND</c>, <c>OR</c>, <c>NOT</c> and parentheses.
/// Literals are strings (<c>'fr'</c>), numbers, <c>TRUE</c>/<c>FALSE</c>, and <c>TIMESTAMP '…'</c> /
/// <c>DATE '…'</c>. Comparisons follow SQL's three-valued logic: a null never matches.
/// </summary>
public abstract record FilterExpression
{
    public static FilterExpression Parse(string text) => new FilterParser(text).ParseAll();

    /// <summary>The columns the expression reads, in order of first use.</summary>
    public IReadOnlyList<string> Columns
    {
        get
        {
            var list = new List<string>();
            var stack = new Stack<FilterExpression>();
            stack.Push(this);
            while (stack.Count > 0)
            {
                switch (stack.Pop())
                {
                    case Comparison c: if (!list.Contains(c.Column)) list.Add(c.Column); break;
                    case InList i: if (!list.Contains(i.Column)) list.Add(i.Column); break;
                    case NullTest n: if (!list.Contains(n.Column)) list.Add(n.Column); break;
                    case And a: stack.Push(a.Right); stack.Push(a.Left); break;
                    case Or o: stack.Push(o.Right); stack.Push(o.Left); break;
                    case Not n: stack.Push(n.Inner); break;
                }
            }
            return list;
        }
    }
}

public sealed record Comparison(string Column, CompareOp Op, object Literal) : FilterExpression;
public sealed record InList(string Column, IReadOnlyList<object> Literals, bool Negated) : FilterExpression;
public sealed record NullTest(string Column, bool Negated) : FilterExpression;
public sealed record And(FilterExpression Left, FilterExpression Right) : FilterExpression;
public sealed record Or(FilterExpression Left, FilterExpression Right) : FilterExpression;
public sealed record Not(FilterExpression Inner) : FilterExpression;

/// <summary>A typed literal that must be read as a timestamp (<c>TIMESTAMP '2024-01-01'</c>).</summary>
public sealed record TimestampLiteral(Timestamp Value)
{
    public override string ToString() => "TIMESTAMP '" + Value + "'";
}

/// <summary>A syntax error in a filter expression, with the 1-based character position.</summary>
public sealed class FilterSyntaxException(string text, int position, string detail)
    : BrineUsageException($"--where: {detail} at position {position + 1}: {text}\n{new string(' ', Math.Min(position, text.Length) + 9)}^")
{
    public int Position { get; } = position + 1;
}

sealed class FilterParser
{
    enum T { Ident, String, Number, LParen, RParen, Comma, Op, End }

    readonly string _text;
    int _pos;
    T _kind;
    string _token = "";
    int _start;
    int _depth;

    public FilterParser(string text) { _text = text; Next(); }

    public FilterExpression ParseAll()
    {
        if (_kind == T.End) throw Fail("empty expression");
        var e = ParseOr();
        if (_kind != T.End) throw Fail($"unexpected '{_token}'");
        return e;
    }

    FilterSyntaxException Fail(string detail) => new(_text, _start, detail);

    bool IsKeyword(string k) => _kind == T.Ident && !_quotedIdent && string.Equals(_token, k, StringComparison.OrdinalIgnoreCase);
    bool _quotedIdent;

    FilterExpression ParseOr()
    {
        var left = ParseAnd();
        while (IsKeyword("OR")) { Next(); left = new Or(left, ParseAnd()); }
        return left;
    }

    FilterExpression ParseAnd()
    {
        var left = ParseNot();
        while (IsKeyword("AND")) { Next(); left = new And(left, ParseNot()); }
        return left;
    }

    FilterExpression ParseNot()
    {
        int nots = 0;
        while (IsKeyword("NOT")) { Next(); nots++; }
        var e = ParsePrimary();
        for (int i = 0; i < nots; i++) e = new Not(e);
        return e;
    }

    FilterExpression ParsePrimary()
    {
        if (_kind == T.LParen)
        {
            if (++_depth > 256) throw Fail("parentheses nested too deeply");
            Next();
            var inner = ParseOr();
            if (_kind != T.RParen) throw Fail(_kind == T.End ? "missing ')'" : $"expected ')' but found '{_token}'");
            Next();
            _depth--;
            return inner;
        }
        if (_kind != T.Ident || IsKeyword("AND") || IsKeyword("OR"))
        {
            // A literal first: `'fr' = language` reads as `language = 'fr'`.
            if (_kind is T.String or T.Number || IsKeyword("TIMESTAMP") || IsKeyword("DATE") || IsKeyword("TRUE") || IsKeyword("FALSE"))
            {
                var lit = ParseLiteral();
                if (_kind != T.Op) throw Fail("expected a comparison operator");
                var op = ParseOp();
                if (_kind != T.Ident) throw Fail("expected a column name");
                var col = _token; Next();
                return new Comparison(col, Flip(op), lit);
            }
            throw Fail(_kind == T.End ? "the expression ends too early; expected a column name" : $"expected a column name but found '{_token}'");
        }
        var column = _token;
        Next();
        if (IsKeyword("IS"))
        {
            Next();
            bool negated = false;
            if (IsKeyword("NOT")) { negated = true; Next(); }
            if (!IsKeyword("NULL")) throw Fail("expected NULL after IS");
            Next();
            return new NullTest(column, negated);
        }
        bool notIn = false;
        if (IsKeyword("NOT")) { Next(); if (!IsKeyword("IN")) throw Fail("expected IN after NOT"); notIn = true; }
        if (IsKeyword("IN"))
        {
            Next();
            if (_kind != T.LParen) throw Fail("expected '(' after IN");
            Next();
            var items = new List<object>();
            while (true)
            {
                items.Add(ParseLiteral());
                if (_kind == T.Comma) { Next(); continue; }
                if (_kind == T.RParen) { Next(); break; }
                throw Fail(_kind == T.End ? "missing ')' to close IN (…)" : $"expected ',' or ')' but found '{_token}'");
            }
            return new InList(column, items, notIn);
        }
        if (_kind != T.Op) throw Fail(_kind == T.End ? $"expected an operator after '{column}'" : $"expected an operator (= != < <= > >= IN IS) after '{column}' but found '{_token}'");
        var cmp = ParseOp();
        return new Comparison(column, cmp, ParseLiteral());
    }

    static CompareOp Flip(CompareOp op) => op switch
    {
        CompareOp.Lt => CompareOp.Gt,
        CompareOp.Le => CompareOp.Ge,
        CompareOp.Gt => CompareOp.Lt,
        CompareOp.Ge => CompareOp.Le,
        _ => op,
    };

    CompareOp ParseOp()
    {
        var op = _token switch
        {
            "=" or "==" => CompareOp.Eq,
            "!=" or "<>" => CompareOp.Ne,
            "<" => CompareOp.Lt,
            "<=" => CompareOp.Le,
            ">" => CompareOp.Gt,
            ">=" => CompareOp.Ge,
            _ => throw Fail($"unknown operator '{_token}'"),
        };
        Next();
        return op;
    }

    object ParseLiteral()
    {
        if (_kind == T.String) { var s = _token; Next(); return s; }
        if (_kind == T.Number)
        {
            var n = _token;
            object v = long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l
                : double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
                : throw Fail($"'{n}' is not a number");
            Next();
            return v;
        }
        if (IsKeyword("TRUE")) { Next(); return true; }
        if (IsKeyword("FALSE")) { Next(); return false; }
        if (IsKeyword("NULL")) throw Fail("comparing with NULL never matches; use IS NULL or IS NOT NULL");
        if (IsKeyword("TIMESTAMP") || IsKeyword("DATE"))
        {
            bool date = IsKeyword("DATE");
            Next();
            if (_kind != T.String) throw Fail($"expected a quoted {(date ? "date" : "timestamp")} after {(date ? "DATE" : "TIMESTAMP")}");
            if (!FilterValues.TryParseInstant(_token, out var ts)) throw Fail($"'{_token}' is not an ISO date or timestamp");
            Next();
            return new TimestampLiteral(ts);
        }
        throw Fail(_kind == T.End ? "the expression ends too early; expected a value" : $"expected a value but found '{_token}'");
    }

    void Next()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
        _start = _pos;
        _quotedIdent = false;
        if (_pos >= _text.Length) { _kind = T.End; _token = "end"; return; }
        char c = _text[_pos];
        if (c == '(') { _kind = T.LParen; _token = "("; _pos++; return; }
        if (c == ')') { _kind = T.RParen; _token = ")"; _pos++; return; }
        if (c == ',') { _kind = T.Comma; _token = ","; _pos++; return; }
        if (c is '=' or '!' or '<' or '>')
        {
            int s = _pos++;
            if (_pos < _text.Length && (_text[_pos] == '=' || (c == '<' && _text[_pos] == '>'))) _pos++;
            _kind = T.Op; _token = _text[s.._pos];
            if (_token == "!") throw Fail("'!' must be followed by '='");
            return;
        }
        if (c == '\'' || c == '"' || c == '`')
        {
            // 'text' is a string; "name" and `name` are quoted column names. A doubled quote escapes itself.
            var sb = new StringBuilder();
            _pos++;
            while (true)
            {
                if (_pos >= _text.Length) throw Fail("unterminated quote");
                if (_text[_pos] == c)
                {
                    if (_pos + 1 < _text.Length && _text[_pos + 1] == c) { sb.Append(c); _pos += 2; continue; }
                    _pos++;
                    break;
                }
                sb.Append(_text[_pos++]);
            }
            _token = sb.ToString();
            _kind = c == '\'' ? T.String : T.Ident;
            _quotedIdent = c != '\'';
            return;
        }
        if (char.IsAsciiDigit(c) || ((c is '-' or '+' or '.') && _pos + 1 < _text.Length && (char.IsAsciiDigit(_text[_pos + 1]) || _text[_pos + 1] == '.')))
        {
            int s = _pos++;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '.' ||
                   ((_text[_pos] is '-' or '+') && _text[_pos - 1] is 'e' or 'E'))) _pos++;
            _kind = T.Number; _token = _text[s.._pos];
            return;
        }
        if (char.IsLetter(c) || c == '_')
        {
            int s = _pos++;
            while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.')) _pos++;
            _kind = T.Ident; _token = _text[s.._pos];
            return;
        }
        throw Fail($"unexpected character '{c}'");
    }
}
