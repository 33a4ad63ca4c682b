namespace MailMesh.Contracts;

/// <summary>A recipient was still not delivered when the message's lifetime ran out: it is never tried
/// again, and the sender is bounced.</summary>
/// <param name="QueueId">The queue id the client saw in the 250 reply, in every log line of the
/// message.</param>
/// <param name="Recipient">The forward path, as the client gave it in RCPT TO.</param>
/// <param name="Route">The route taken, as an operator writes it (<c>smtp://host:25</c>,
/// <c>file:///dir</c>, <c>mx</c>).</param>
/// <param name="RemoteHost">The host that answered; null when none was reached or the route is a
/// Maildir.</param>
/// <param name="Reply">The last reply that deferred it.</param>
/// <param name="Attempt">Which delivery attempt this was, from 1.</param>
/// <param name="Timestamp">When the outcome was known.</param>
public sealed record RecipientExpired(
    string QueueId,
    string Recipient,
    string Route,
    string? RemoteHost,
    string Reply,
    int Attempt,
    DateTimeOffset Timestamp);
