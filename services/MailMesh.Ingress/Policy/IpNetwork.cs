using System.Net;
using System.Net.Sockets;

namespace MailMesh.Ingress.Policy;

/// <summary>An IPv4 or IPv6 network in CIDR form; a bare address is a network of one.</summary>
internal sealed class IpNetwork
{
    private readonly byte[] _prefix;
    private readonly int _bits;

    private IpNetwork(byte[] prefix, int bits)
    {
        _prefix = prefix;
        _bits = bits;
    }

    public static IpNetwork Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText.Trim(), out var address))
        {
            throw new FormatException($"'{text}' is not an IP address or CIDR network.");
        }

        var bytes = Normalize(address).GetAddressBytes();
        var bits = bytes.Length * 8;
        if (slash >= 0)
        {
            if (!int.TryParse(text.AsSpan(slash + 1).Trim(), out bits) || bits < 0 || bits > bytes.Length * 8)
            {
                throw new FormatException($"'{text}' has an invalid prefix length.");
            }
        }

        return new IpNetwork(bytes, bits);
    }

    public bool Contains(IPAddress address)
    {
        var bytes = Normalize(address).GetAddressBytes();
        if (bytes.Length != _prefix.Length)
        {
            return false;
        }

        var whole = _bits / 8;
        for (var i = 0; i < whole; i++)
        {
            if (bytes[i] != _prefix[i])
            {
                return false;
            }
        }

        var rest = _bits % 8;
        if (rest == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - rest));
        return (bytes[whole] & mask) == (_prefix[whole] & mask);
    }

    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; rules are written for a.b.c.d.
    private static IPAddress Normalize(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6
            ? address.MapToIPv4()
            : address;
}
