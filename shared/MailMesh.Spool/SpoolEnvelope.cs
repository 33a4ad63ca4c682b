namespace MailMesh.Spool;

/// <summary>
/// The SMTP envelope of one spool message. It travels in AMQP headers beside the raw message
/// bytes, so a worker can route the message without parsing its body.
/// </summary>
/// <param name="QueueId">The id the client saw in the 250 reply.</param>
/// <param name="ReversePath">MAIL FROM without angle brackets; empty for the null reverse path.</param>
/// <param name="Recipients">The forward paths this spool message carries (one destination domain).</param>
/// <param name="ArrivedAt">When the ingress accepted the message.</param>
/// <param name="Attempt">Delivery attempts made so far.</param>
/// <param name="ClientAddress">IP address of the SMTP client.</param>
/// <param name="ClientHelo">The name the client gave in EHLO or HELO.</param>
/// <param name="Body">The BODY parameter of MAIL FROM: <c>7BIT</c>, <c>8BITMIME</c> or empty.</param>
/// <param name="Part">Which of the message's spool messages this is (1-based).</param>
/// <param name="Parts">How many spool messages the accepted message was split into.</param>
/// <param name="SmtpUtf8">The client gave SMTPUTF8 (RFC 6531): addresses and headers may be UTF-8.</param>
/// <param name="EnvelopeId">The RFC 3461 ENVID, decoded from xtext; null when none was given.</param>
/// <param name="Return">The RFC 3461 RET: <c>FULL</c> or <c>HDRS</c>; null when none was given.</param>
/// <param name="DelayNotified">
/// The sender was already sent a delay notice (RFC 3464 <c>Action: delayed</c>) for this message;
/// later attempts send none.
/// </param>
public sealed record SpoolEnvelope(
    string QueueId,
    string ReversePath,
    IReadOnlyList<SpoolRecipient> Recipients,
    DateTimeOffset ArrivedAt,
    int Attempt,
    string ClientAddress,
    string ClientHelo,
    string Body,
    int Part,
    int Parts,
    bool SmtpUtf8 = false,
    string? EnvelopeId = null,
    string? Return = null,
    bool DelayNotified = false);
