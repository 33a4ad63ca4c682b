using System.Globalization;
using System.Net;

namespace MailMesh.Delivery.Routing;

/// <summary>Delivery through one SMTP server that relays for MailMesh.</summary>
internal sealed record SmarthostRoute(
    string Host,
    int Port,
    SmarthostSecurity Security,
    NetworkCredential? Credentials) : Route
{
    public override string Name => string.Create(CultureInfo.InvariantCulture,
        $"{(Security == SmarthostSecurity.Implicit ? "smtps" : "smtp")}://{HostForUri}:{Port}");

    private string HostForUri => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
}
