using System.Text;

namespace MailMesh.Ingress.Protocol;

/// <summary>
/// The xtext encoding of RFC 3461 section 4: printable ASCII except "+" and "=", and "+XX"
/// (two upper-case hex digits) for any other octet. With SMTPUTF8, RFC 6533 also lets UTF-8
/// characters stand as they are.
/// </summary>
internal static class Xtext
{
    /// <summary>Decodes <paramref name="value"/>; null when it is not valid xtext.</summary>
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

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
