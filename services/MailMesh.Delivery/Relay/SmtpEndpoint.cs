using System.Globalization;
using System.Net;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// One SMTP server to try: its host name (for the TLS handshake and the logs) and, when DNS
/// already gave it, the address to connect to; without one the name is resolved when connecting.
/// </summary>
internal sealed record SmtpEndpoint(string Host, IPAddress? Address, int Port)
{
    /// <summary>As Postfix writes a peer: <c>mx1.example.com[192.0.2.1]:25</c>.</summary>
    public string Label => Address is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"{Host}[{Address}]:{Port}");

    /// <summary>What a circuit breaker is kept for: the address, or the name when none is known.</summary>
    public string Key => Address is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Host.ToLowerInvariant()}:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"[{Address}]:{Port}");
}
