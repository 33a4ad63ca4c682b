namespace MailMesh.Delivery.Routing;

/// <summary>How a smarthost connection is protected.</summary>
internal enum SmarthostSecurity
{
    /// <summary>STARTTLS when the server offers it, plain otherwise (RFC 7435 opportunistic security).</summary>
    Opportunistic,

    /// <summary>STARTTLS with a valid certificate, or no delivery (<c>tls=require</c>).</summary>
    Required,

    /// <summary>Plain text, never STARTTLS (<c>tls=none</c>).</summary>
    None,

    /// <summary>TLS from the first byte, <c>smtps://</c> (RFC 8314).</summary>
    Implicit,
}
