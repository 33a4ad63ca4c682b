using System.Globalization;
using System.Text;

namespace MailMesh.Spool;

/// <summary>
/// The xtext encoding of RFC 3461 section 4, in which ENVID and ORCPT travel: printable ASCII
/// except "+" and "=", and "+XX" (two upper-case hex digits) for any other octet. The ingress
/// decodes what a client sent; the delivery worker encodes it again for a delivery status
/// notification.
/// </summary>
public static class Xtext
{
    /// <summary>
    /// Decodes <paramref name="value"/>; null when it is not valid xtext. With
    /// <paramref name="allowUtf8"/> (SMTPUTF8), RFC 6533 also lets UTF-8 characters stand as they are.
    /// </summary>
    public static string? Decode(ReadOnlySpan<byte> value, bool allowUtf8)
    {
        var decoded = new byte[value.Length];
        var length = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            if (b == (byte)'+')
            {
                if (i + 2 >= value.Length)
                {
                    return null;
                }

                var high = HexValue(value[i + 1]);
                var low = HexValue(value[i + 2]);
                if (high < 0 || low < 0)
                {
                    return null;
                }

                decoded[length++] = (byte)((high << 4) | low);
                i += 2;
            }
            else if ((b >= 33 && b <= 126 && b != (byte)'=') || (allowUtf8 && b >= 0x80))
            {
                decoded[length++] = b;
            }
            else
            {
                return null;
            }
        }

        var bytes = decoded.AsSpan(0, length);
        return System.Text.Unicode.Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : null;
    }

    /// <summary>Encodes <paramref name="value"/>, every octet of its UTF-8 form outside xchar as "+XX".</summary>
    public static string Encode(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= 33 and <= 126 && b != (byte)'+' && b != (byte)'=')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('+').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// RFC 6533 section 3 utf-8-addr-xtext, for an address with UTF-8 characters in a
    /// message/delivery-status part (which must stay ASCII): each character outside QCHAR is
    /// written <c>\x{HEX}</c> with its code point.
    /// </summary>
    public static string EncodeUtf8Address(string address)
    {
        var text = new StringBuilder(address.Length + 16);
        foreach (var rune in address.EnumerateRunes())
        {
            if (rune.Value is >= 0x21 and <= 0x7E and not '+' and not '=' and not '\\')
            {
                text.Append((char)rune.Value);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{{{rune.Value:X}}}");
            }
        }

        return text.ToString();
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
