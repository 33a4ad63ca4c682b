using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailMesh.Ingress.Protocol;

internal enum PathError
{
    None,
    Syntax,
    NonAscii,
    TooLong,
}

/// <summary>
/// Parses the Reverse-path and Forward-path of RFC 5321 section 4.1.2 from command bytes,
/// strictly: angle brackets required, dot-string or quoted local part, a domain of LDH labels
/// with no trailing dot, or an address literal. UTF-8 (RFC 6531) is parsed too and reported
/// in <see cref="Mailbox.IsAscii"/>: whether it is allowed is the session's decision.
/// </summary>
internal static class PathParser
{
    /// <summary>RFC 5321 4.5.3.1.3: a path is at most 256 octets, angle brackets included.</summary>
    public const int MaxPathLength = 256;

    private const int MaxDomainLength = 255;
    private const int MaxLabelLength = 63;

    private static readonly System.Globalization.IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>
    /// Parses a path at the start of <paramref name="input"/>. A null path ("&lt;&gt;") gives a
    /// null mailbox; the caller decides whether it is allowed. "&lt;Postmaster&gt;" (any case)
    /// gives a mailbox with an empty domain.
    /// </summary>
    public static PathError Parse(ReadOnlySpan<byte> input, out Mailbox? mailbox, out int consumed)
    {
        mailbox = null;
        consumed = 0;
        if (input.IsEmpty || input[0] != (byte)'<')
        {
            return PathError.Syntax;
        }

        var close = FindClosingBracket(input);
        if (close < 0)
        {
            return PathError.Syntax;
        }

        consumed = close + 1;
        if (consumed > MaxPathLength)
        {
            return PathError.TooLong;
        }

        var inner = input[1..close];
        var ascii = inner.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0;
        if (!ascii && !System.Text.Unicode.Utf8.IsValid(inner))
        {
            return PathError.Syntax;
        }

        if (inner.IsEmpty)
        {
            return PathError.None;
        }

        if (inner[0] == (byte)'@')
        {
            // A source route: checked for syntax, then ignored as RFC 5321 4.1.1.3 says.
            var colon = inner.IndexOf((byte)':');
            if (colon < 0 || !IsSourceRoute(inner[..colon]))
            {
                return PathError.Syntax;
            }

            inner = inner[(colon + 1)..];
        }

        if (Ascii.EqualsIgnoreCase(inner, "postmaster"u8))
        {
            mailbox = new Mailbox("Postmaster", "", "", IsAddressLiteral: false, IsQuoted: false, IsAscii: true);
            return PathError.None;
        }

        return ParseMailbox(inner, out mailbox) ? PathError.None : PathError.Syntax;
    }

    private static int FindClosingBracket(ReadOnlySpan<byte> input)
    {
        var quoted = false;
        for (var i = 1; i < input.Length; i++)
        {
            var b = input[i];
            if (quoted && b == (byte)'\\')
            {
                i++;
            }
            else if (b == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (!quoted && b == (byte)'>')
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsSourceRoute(ReadOnlySpan<byte> route)
    {
        // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
        foreach (var range in route.Split((byte)','))
        {
            var atDomain = route[range];
            if (atDomain.Length < 2 || atDomain[0] != (byte)'@' || !IsDomain(atDomain[1..]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ParseMailbox(ReadOnlySpan<byte> text, out Mailbox? mailbox)
    {
        mailbox = null;
        if (text.IsEmpty)
        {
            return false;
        }

        int at;
        bool quoted;
        if (text[0] == (byte)'"')
        {
            var end = QuotedStringEnd(text);
            if (end < 0)
            {
                return false;
            }

            at = end;
            quoted = true;
        }
        else
        {
            at = text.IndexOf((byte)'@');
            if (at <= 0 || !IsDotString(text[..at]))
            {
                return false;
            }

            quoted = false;
        }

        if (at >= text.Length || text[at] != (byte)'@')
        {
            return false;
        }

        var domain = text[(at + 1)..];
        bool literal;
        if (domain.Length > 0 && domain[0] == (byte)'[')
        {
            if (!IsAddressLiteral(domain))
            {
                return false;
            }

            literal = true;
        }
        else if (IsDomain(domain))
        {
            literal = false;
        }
        else
        {
            return false;
        }

        var domainText = Encoding.UTF8.GetString(domain).ToLowerInvariant();
        var asciiDomain = domainText;
        if (!literal && domainText.AsSpan().IndexOfAnyExceptInRange((char)0, (char)0x7F) >= 0)
        {
            // RFC 6531 3.3: a U-label domain; policy compares its A-label form (RFC 5890).
            try
            {
                asciiDomain = Idn.GetAscii(domainText);
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        mailbox = new Mailbox(
            Encoding.UTF8.GetString(text[..at]),
            domainText,
            asciiDomain,
            literal,
            quoted,
            IsAscii: text.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0);
        return true;
    }

    /// <summary>Index just past the closing quote of a Quoted-string, or -1.</summary>
    private static int QuotedStringEnd(ReadOnlySpan<byte> text)
    {
        for (var i = 1; i < text.Length; i++)
        {
            var b = text[i];
            if (b == (byte)'\\')
            {
                // quoted-pairSMTP = %d92 %d32-126
                if (i + 1 >= text.Length || text[i + 1] < 32 || text[i + 1] > 126)
                {
                    return -1;
                }

                i++;
            }
            else if (b == (byte)'"')
            {
                return i + 1;
            }
            else if (b < 32 || b == 127)
            {
                // qtextSMTP, with RFC 6531's UTF8-non-ascii (bytes 0x80 and up).
                return -1;
            }
        }

        return -1;
    }

    private static bool IsDotString(ReadOnlySpan<byte> text)
    {
        foreach (var range in text.Split((byte)'.'))
        {
            var atom = text[range];
            if (atom.IsEmpty)
            {
                return false;
            }

            foreach (var b in atom)
            {
                if (!IsAtext(b))
                {
                    return false;
                }
            }
        }

        return true;
    }

    // atext, with RFC 6531's UTF8-non-ascii: a multi-byte character is taken byte by byte.
    private static bool IsAtext(byte b) =>
        b >= 0x80 || (b >= (byte)'a' && b <= (byte)'z') || (b >= (byte)'A' && b <= (byte)'Z')
        || (b >= (byte)'0' && b <= (byte)'9') || "!#$%&'*+-/=?^_`{|}~"u8.Contains(b);

    /// <summary>Domain = sub-domain *("." sub-domain); no empty label, so no trailing dot.</summary>
    public static bool IsDomain(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty || text.Length > MaxDomainLength)
        {
            return false;
        }

        foreach (var range in text.Split((byte)'.'))
        {
            var label = text[range];
            if (label.IsEmpty || label.Length > MaxLabelLength
                || !IsLetDig(label[0]) || !IsLetDig(label[^1]))
            {
                return false;
            }

            foreach (var b in label)
            {
                // U-label bytes are checked as a whole by the IDNA conversion afterwards.
                if (!IsLetDig(b) && b != (byte)'-' && b < 0x80)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool IsLetDig(byte b) =>
        b >= 0x80 || (b >= (byte)'a' && b <= (byte)'z') || (b >= (byte)'A' && b <= (byte)'Z')
        || (b >= (byte)'0' && b <= (byte)'9');

    private static bool IsAddressLiteral(ReadOnlySpan<byte> text)
    {
        if (text.Length < 3 || text[0] != (byte)'[' || text[^1] != (byte)']')
        {
            return false;
        }

        var inner = text[1..^1];
        if (inner.Length > 5 && Ascii.EqualsIgnoreCase(inner[..5], "IPv6:"u8))
        {
            return IPAddress.TryParse(Encoding.ASCII.GetString(inner[5..]), out var v6)
                && v6.AddressFamily == AddressFamily.InterNetworkV6;
        }

        if (inner.IndexOf((byte)':') is var colon and > 0)
        {
            // General-address-literal = Standardized-tag ":" 1*dcontent
            if (!IsDomain(inner[..colon]) || colon == inner.Length - 1)
            {
                return false;
            }

            foreach (var b in inner[(colon + 1)..])
            {
                if (b < 33 || b > 126 || b == (byte)'[' || b == (byte)'\\' || b == (byte)']')
                {
                    return false;
                }
            }

            return true;
        }

        return IsIPv4(inner);
    }

    private static bool IsIPv4(ReadOnlySpan<byte> text)
    {
        var parts = 0;
        foreach (var range in text.Split((byte)'.'))
        {
            var snum = text[range];
            if (snum.IsEmpty || snum.Length > 3 || ++parts > 4)
            {
                return false;
            }

            var value = 0;
            foreach (var b in snum)
            {
                if (b < (byte)'0' || b > (byte)'9')
                {
                    return false;
                }

                value = (value * 10) + (b - '0');
            }

            if (value > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }
}
