using System.ComponentModel.DataAnnotations;

namespace MailMesh.Ingress;

/// <summary>
/// The SMTP listener, its limits and its relay rules, bound from <c>MailMesh:Ingress</c>.
/// Defaults follow RFC 5321 section 4.5.3 and Postfix.
/// </summary>
public sealed class IngressOptions
{
    public const string SectionName = "MailMesh:Ingress";

    /// <summary>Address to listen on. Default 127.0.0.1.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port to listen on. Default 2525.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 2525;

    /// <summary>
    /// Networks whose clients may relay to any domain, as CIDR ("10.0.0.0/8") or single
    /// addresses. Null means not configured: loopback only. A configured list replaces that
    /// default; an empty one trusts nobody.
    /// </summary>
    public List<string>? TrustedNetworks { get; set; }

    /// <summary>
    /// Domains accepted from any client. A leading dot accepts the domain and all its
    /// subdomains. Null means not configured: <c>.test</c> and <c>localhost</c>.
    /// </summary>
    public List<string>? AcceptedDomains { get; set; }

    /// <summary>Largest message accepted, in octets, as received. Default 25 MiB.</summary>
    [Range(1024, int.MaxValue - 1024 * 1024)]
    public int MaxMessageSize { get; set; } = 25 * 1024 * 1024;

    /// <summary>Recipients per message. Default 1000; RFC 5321 4.5.3.1.8 forbids fewer than 100.</summary>
    [Range(100, 100_000, ErrorMessage = "MaxRecipients must be at least 100 (RFC 5321 4.5.3.1.8).")]
    public int MaxRecipients { get; set; } = 1000;

    /// <summary>Longest command line in octets, CRLF included. Default 512 (RFC 5321 4.5.3.1.4).</summary>
    [Range(512, 65536)]
    public int MaxCommandLine { get; set; } = 512;

    /// <summary>Longest line of message content, CRLF included. Default 1000 (RFC 5321 4.5.3.1.6).</summary>
    [Range(1000, 1_000_000)]
    public int MaxTextLine { get; set; } = 1000;

    /// <summary>Concurrent SMTP connections in all. Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Concurrent connections from one client address. Default 50, as Postfix.</summary>
    [Range(1, 1_000_000)]
    public int MaxConnectionsPerClient { get; set; } = 50;

    /// <summary>Received headers a message may already carry; more is a mail loop. Default 50.</summary>
    [Range(1, 1000)]
    public int MaxReceivedHeaders { get; set; } = 50;

    /// <summary>Refused commands after which a session is closed (421). Default 20, as Postfix.</summary>
    [Range(1, 1000)]
    public int MaxErrors { get; set; } = 20;

    /// <summary>Message bytes held in memory across all sessions. Default 1 GiB.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxBufferedBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Wait for the next command. Default 5 minutes (RFC 5321 4.5.3.2.7).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Wait for the next block of message content. Default 3 minutes (RFC 5321 4.5.3.2.5).</summary>
    public TimeSpan DataBlockTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Offer STARTTLS (RFC 3207). Default true.</summary>
    public bool StartTls { get; set; } = true;

    /// <summary>
    /// PEM file of the TLS certificate (with its chain). Unset: a self-signed certificate is
    /// made at start, fit for development only.
    /// </summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM file of the certificate's private key. Unset: the key is read from CertificateFile.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Longest a TLS handshake may take. Default 30 seconds.</summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Users who may authenticate (RFC 4954), each a <c>Name</c> and a <c>PasswordHash</c> as
    /// printed by <c>MailMesh.Ingress hash-password</c>. An authenticated client may relay.
    /// </summary>
    public List<SmtpUser> Users { get; set; } = [];

    /// <summary>Offer AUTH before STARTTLS, sending passwords in clear. Default false.</summary>
    public bool AllowPlaintextAuth { get; set; }

    /// <summary>
    /// Failed AUTH attempts from one client address, within AuthFailureWindow, after which that
    /// address is refused AUTH and disconnected. Default 5.
    /// </summary>
    [Range(1, 1000)]
    public int AuthFailureLimit { get; set; } = 5;

    /// <summary>The window over which failed AUTH attempts are counted. Default 15 minutes.</summary>
    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Port of a second, submission listener (RFC 6409, port 587 style) on the same address, where
    /// MAIL needs AUTH first. Unset: no submission listener.
    /// </summary>
    [Range(0, 65535)]
    public int? SubmissionPort { get; set; }
}
