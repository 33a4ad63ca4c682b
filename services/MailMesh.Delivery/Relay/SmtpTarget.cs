using System.Net;
using MailKit.Security;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// Where one relay attempt goes: the servers to try in order, the first that takes the
/// connection getting the transaction, and how to talk to them.
/// </summary>
/// <param name="Name">The route as logged: <c>smtp://host:port</c>, or <c>mx</c>.</param>
/// <param name="Endpoints">The servers, in the order to try them.</param>
/// <param name="Security">TLS from the first byte, STARTTLS required, when offered, or never.</param>
/// <param name="VerifyCertificate">
/// Whether the server's certificate must be valid for its name; false for opportunistic TLS.
/// </param>
/// <param name="Credentials">AUTH credentials for a smarthost; null for none.</param>
/// <param name="NamesEndpoint">
/// Outcomes name the server that answered (MX delivery) rather than the route (a smarthost).
/// </param>
internal sealed record SmtpTarget(
    string Name,
    IReadOnlyList<SmtpEndpoint> Endpoints,
    SecureSocketOptions Security,
    bool VerifyCertificate,
    NetworkCredential? Credentials,
    bool NamesEndpoint);
