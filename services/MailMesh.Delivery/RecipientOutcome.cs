using MailMesh.Spool;

namespace MailMesh.Delivery;

/// <summary>The outcome of one recipient in one delivery attempt.</summary>
/// <param name="Recipient">The forward path, as spooled.</param>
/// <param name="Kind">Delivered, deferred, failed or expired.</param>
/// <param name="Reply">
/// The remote reply (<c>550 5.1.1 No such user</c>), or MailMesh's own words in the same form
/// when there was none (<c>451 4.4.1 connection refused</c>).
/// </param>
/// <param name="Remote">The host that answered, or the mailbox directory; null when none was reached.</param>
/// <param name="NotifyPassedOn">
/// Delivered to a server that offers DSN (RFC 3461), which was given the recipient's NOTIFY: any
/// success notice is that server's to send, not MailMesh's.
/// </param>
internal sealed record RecipientOutcome(
    SpoolRecipient Recipient,
    OutcomeKind Kind,
    string Reply,
    string? Remote,
    bool NotifyPassedOn = false)
{
    public static OutcomeKind KindOf(int statusCode) => statusCode switch
    {
        >= 200 and < 300 => OutcomeKind.Delivered,
        >= 500 and < 600 => OutcomeKind.Failed,
        // 4xx, and anything a server should not have said, is worth another attempt.
        _ => OutcomeKind.Deferred,
    };
}
