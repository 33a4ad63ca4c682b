namespace MailMesh.Ingress.Protocol;

/// <summary>
/// A mailbox of an SMTP path. The local part is as the client wrote it (quotes included), the
/// domain is lowercased, and the source route, if any, is dropped (RFC 5321 4.1.1.3 and C).
/// </summary>
/// <param name="AsciiDomain">The domain with U-labels as A-labels (xn--), for policy decisions.</param>
/// <param name="IsAscii">False when the address has UTF-8 (allowed only with SMTPUTF8).</param>
internal sealed record Mailbox(
    string LocalPart,
    string Domain,
    string AsciiDomain,
    bool IsAddressLiteral,
    bool IsQuoted,
    bool IsAscii)
{
    public override string ToString() => Domain.Length == 0 ? LocalPart : LocalPart + "@" + Domain;

    /// <summary>
    /// True when the local part names another destination, as the percent hack
    /// ("user%host@relay"), a bang path ("host!user@relay") or a quoted "user@host" does. A
    /// later hop may honour such routing, so it is relay, whatever the domain.
    /// </summary>
    public bool HasRoutingInLocalPart =>
        LocalPart.AsSpan().IndexOfAny('%', '!', '@') >= 0;
}
