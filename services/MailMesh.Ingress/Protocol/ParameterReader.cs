namespace MailMesh.Ingress.Protocol;

/// <summary>
/// Reads the esmtp-param list that follows a path in MAIL and RCPT (RFC 5321 4.1.2):
/// <c>SP keyword["=" value]</c>, repeated. A malformed entry is returned with an empty keyword.
/// </summary>
internal ref struct ParameterReader
{
    private ReadOnlySpan<byte> _rest;
    private bool _failed;

    public ParameterReader(ReadOnlySpan<byte> afterPath)
    {
        _rest = afterPath;
        // The path must be followed by a space or nothing: "<a@b.test>x" is not a parameter.
        _failed = !afterPath.IsEmpty && afterPath[0] != (byte)' ';
    }

    public Parameter Current { get; private set; }

    public readonly ParameterReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_failed)
        {
            _failed = false;
            _rest = [];
            Current = default;
            return true;
        }

        _rest = _rest.TrimStart((byte)' ');
        if (_rest.IsEmpty)
        {
            return false;
        }

        var end = _rest.IndexOf((byte)' ');
        var token = end < 0 ? _rest : _rest[..end];
        _rest = end < 0 ? [] : _rest[end..];
        var equals = token.IndexOf((byte)'=');
        var keyword = equals < 0 ? token : token[..equals];
        var value = equals < 0 ? [] : token[(equals + 1)..];
        Current = IsKeyword(keyword) && (equals < 0 || IsValue(value))
            ? new Parameter(keyword, value)
            : default;
        return true;
    }

    private static bool IsKeyword(ReadOnlySpan<byte> keyword)
    {
        if (keyword.IsEmpty || !char.IsAsciiLetterOrDigit((char)keyword[0]))
        {
            return false;
        }

        foreach (var b in keyword)
        {
            if (!char.IsAsciiLetterOrDigit((char)b) && b != (byte)'-')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValue(ReadOnlySpan<byte> value)
    {
        // esmtp-value = 1*(%d33-60 / %d62-126), and UTF-8 as RFC 6531 4.3 extends it; whether
        // UTF-8 is allowed in a given parameter is up to that parameter.
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b < 33 || b == 127 || b == (byte)'=')
            {
                return false;
            }
        }

        return true;
    }

    internal readonly ref struct Parameter(ReadOnlySpan<byte> keyword, ReadOnlySpan<byte> value)
    {
        public ReadOnlySpan<byte> Keyword { get; } = keyword;

        public ReadOnlySpan<byte> Value { get; } = value;

        public void Deconstruct(out ReadOnlySpan<byte> keyword, out ReadOnlySpan<byte> value)
        {
            keyword = Keyword;
            value = Value;
        }
    }
}
