using System.Net;
using MailKit.Security;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// Which pooled connections may carry a transaction: those to the same server, made with the same
/// TLS mode, its certificate checked against the same name, and logged in as the same user. So a
/// connection authenticated for one smarthost login is never used for another, and an encrypted
/// connection never stands in for a plain one or the other way round.
/// </summary>
/// <param name="Destination">
/// The server, as <see cref="SmtpEndpoint.Key"/>; the bound per destination counts by it alone.
/// </param>
/// <param name="Security">How TLS was asked for when connecting.</param>
/// <param name="VerifiedName">
/// The name the server's certificate was checked against; null when any certificate was taken.
/// </param>
/// <param name="Credentials">The AUTH login of the session; null when it did not log in.</param>
internal readonly record struct SmtpConnectionKey(
    string Destination,
    SecureSocketOptions Security,
    string? VerifiedName,
    NetworkCredential? Credentials)
{
    public static SmtpConnectionKey For(SmtpTarget target, SmtpEndpoint endpoint) => new(
        endpoint.Key,
        target.Security,
        target.VerifyCertificate ? endpoint.Host.ToLowerInvariant() : null,
        target.Credentials);

    // NetworkCredential compares by reference; by login, two routes with the same one share.
    public bool Equals(SmtpConnectionKey other) =>
        string.Equals(Destination, other.Destination, StringComparison.Ordinal)
        && Security == other.Security
        && string.Equals(VerifiedName, other.VerifiedName, StringComparison.Ordinal)
        && SameLogin(Credentials, other.Credentials);

    public override int GetHashCode() =>
        HashCode.Combine(Destination, Security, VerifiedName, Credentials?.UserName);

    private static bool SameLogin(NetworkCredential? a, NetworkCredential? b) =>
        a is null || b is null
            ? a is null && b is null
            : string.Equals(a.UserName, b.UserName, StringComparison.Ordinal)
                && string.Equals(a.Password, b.Password, StringComparison.Ordinal)
                && string.Equals(a.Domain, b.Domain, StringComparison.Ordinal);
}
