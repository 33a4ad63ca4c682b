namespace MailMesh.Contracts;

/// <summary>A recipient's message was taken by its destination (2xx), or written to its Maildir.</summary>
/// <param name="QueueId">The queue id the client saw in the 250 reply, in every log line of the
/// message.</param>
/// <param name="Recipient">The forward path, as the client gave it in RCPT TO.</param>
/// <param name="Route">The route taken, as an operator writes it (<c>smtp://host:25</c>,
/// <c>file:///dir</c>, <c>mx</c>).</param>
/// <param name="RemoteHost">The host that answered; null when none was reached or the route is a
/// Maildir.</param>
/// <param name="Reply">The destination's reply (<c>250 2.0.0 Ok: queued as ...</c>).</param>
/// <param name="Attempt">Which delivery attempt this was, from 1.</param>
/// <param name="Timestamp">When the outcome was known.</param>
public sealed record RecipientDelivered(
    string QueueId,
    string Recipient,
    string Route,
    string? RemoteHost,
    string Reply,
    int Attempt,
    DateTimeOffset Timestamp);
