namespace MailMesh.Spool;

/// <summary>One forward path of an envelope, as the client gave it in RCPT TO.</summary>
/// <param name="Address">The recipient address, without angle brackets.</param>
/// <param name="Notify">
/// The RFC 3461 NOTIFY parameter: <c>NEVER</c>, or a comma-separated list of <c>SUCCESS</c>,
/// <c>FAILURE</c> and <c>DELAY</c>; null when the client gave none.
/// </param>
/// <param name="OriginalRecipient">
/// The RFC 3461 ORCPT parameter, decoded from xtext: <c>rfc822;user@example.com</c>; null when
/// the client gave none.
/// </param>
public sealed record SpoolRecipient(string Address, string? Notify = null, string? OriginalRecipient = null);
