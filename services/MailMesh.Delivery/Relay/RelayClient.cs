using MailKit;
using MailKit.Net.Smtp;
using MailMesh.Spool;
using MimeKit;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// MailKit's SmtpClient, made to relay rather than submit: the message goes as spooled (see
/// <see cref="VerbatimMessage"/>), each RCPT reply is kept instead of ending the transaction at
/// the first refusal, and the envelope's DSN parameters (RFC 3461) travel on.
/// </summary>
internal sealed class RelayClient(IProtocolLogger logger) : SmtpClient(logger)
{
    private readonly Dictionary<MailboxAddress, SmtpResponse> _replies =
        new(ReferenceEqualityComparer.Instance);
    private Dictionary<MailboxAddress, SpoolRecipient> _recipients = new(ReferenceEqualityComparer.Instance);
    private SpoolEnvelope? _envelope;

    /// <summary>
    /// Whether the server answered MAIL FROM in the current transaction, taking or refusing it.
    /// Until it has, a connection that breaks has cost the transaction nothing.
    /// </summary>
    public bool SenderAnswered { get; private set; }

    /// <summary>The RCPT reply for a recipient of the current transaction, once it arrived.</summary>
    public SmtpResponse? ReplyTo(MailboxAddress mailbox) =>
        _replies.TryGetValue(mailbox, out var reply) ? reply : null;

    /// <summary>Starts a transaction: what the DSN parameters come from.</summary>
    public void Begin(SpoolEnvelope envelope, Dictionary<MailboxAddress, SpoolRecipient> recipients)
    {
        _envelope = envelope;
        _recipients = recipients;
        _replies.Clear();
        SenderAnswered = false;
        DeliveryStatusNotificationType = envelope.Return?.ToUpperInvariant() switch
        {
            "FULL" => DeliveryStatusNotificationType.Full,
            "HDRS" => DeliveryStatusNotificationType.HeadersOnly,
            _ => DeliveryStatusNotificationType.Unspecified,
        };
    }

    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint,
        int maxLineLength)
    {
        // MailKit's own preparation re-encodes parts to fit the server; the spooled bytes go as
        // they are, save for the one conversion RFC 6152 demands.
        options.HiddenHeaders.Clear();
        if (message is VerbatimMessage verbatim && constraint == EncodingConstraint.SevenBit)
        {
            verbatim.DowngradeTo7Bit();
        }
    }

    protected override void OnSenderAccepted(MimeMessage message, MailboxAddress mailbox,
        SmtpResponse response) =>
        SenderAnswered = true;

    protected override void OnSenderNotAccepted(MimeMessage message, MailboxAddress mailbox,
        SmtpResponse response)
    {
        SenderAnswered = true;
        base.OnSenderNotAccepted(message, mailbox, response);
    }

    protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        _replies[mailbox] = response;

    // A refused recipient does not end the transaction: the others are still sent the message.
    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox,
        SmtpResponse response) =>
        _replies[mailbox] = response;

    // SmtpClient then ends the transaction itself; each recipient's own reply says why.
    protected override void OnNoRecipientsAccepted(MimeMessage message)
    {
    }

    protected override string? GetEnvelopeId(MimeMessage message) => _envelope?.EnvelopeId;

    // Limitation: SmtpClient writes ORCPT only beside NOTIFY, and always as rfc822;<the RCPT
    // address> (its GetOriginalRecipientAddress is private), so an ORCPT received from the client
    // is not passed on as RFC 3461 section 4.2 asks; the RCPT address stands in for it.
    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message,
        MailboxAddress mailbox)
    {
        if (!_recipients.TryGetValue(mailbox, out var recipient) || recipient.Notify is not { } notify)
        {
            return null;
        }

        var flags = default(DeliveryStatusNotification);
        foreach (var keyword in notify.Split(',', StringSplitOptions.TrimEntries))
        {
            flags |= keyword.ToUpperInvariant() switch
            {
                "SUCCESS" => DeliveryStatusNotification.Success,
                "FAILURE" => DeliveryStatusNotification.Failure,
                "DELAY" => DeliveryStatusNotification.Delay,
                _ => DeliveryStatusNotification.Never,
            };
        }

        return flags;
    }
}
