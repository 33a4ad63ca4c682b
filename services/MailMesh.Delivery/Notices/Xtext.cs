using System.Globalization;
using System.Text;

namespace MailMesh.Delivery.Notices;

/// <summary>The encodings a delivery status notification writes envelope values in.</summary>
internal static class Xtext
{
    /// <summary>
    /// RFC 3461 section 4 xtext: printable ASCII but "+" and "=" as it is, every other octet of
    /// the UTF-8 form as "+XX". ENVID and ORCPT values go back to the sender in this form.
    /// </summary>
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

    public static bool IsAscii(string value) => Ascii.IsValid(value);
}
