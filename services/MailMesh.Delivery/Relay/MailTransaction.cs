using MailMesh.Spool;
using MimeKit;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// One spool message as a mail transaction (RFC 5321 3.3), ready to send on any connection to the
/// servers of <paramref name="Target"/>.
/// </summary>
/// <param name="Target">Where it goes.</param>
/// <param name="Envelope">The spooled envelope, for its DSN and SMTPUTF8 parameters.</param>
/// <param name="Message">The spooled bytes.</param>
/// <param name="Sender">The reverse path.</param>
/// <param name="Mailboxes">The forward paths, each with the recipient it stands for.</param>
internal sealed record MailTransaction(
    SmtpTarget Target,
    SpoolEnvelope Envelope,
    VerbatimMessage Message,
    MailboxAddress Sender,
    Dictionary<MailboxAddress, SpoolRecipient> Mailboxes);
