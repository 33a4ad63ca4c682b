using MailMesh.Delivery.Events;
using MailMesh.Delivery.Notices;
using MailMesh.Spool;

namespace MailMesh.Delivery;

/// <summary>
/// Makes a spool message's outcomes known beyond the log before it is acknowledged: the outcome
/// events, then the senders' bounces and delay notices, each confirmed by the broker.
/// </summary>
internal sealed class OutcomeRecorder(OutcomeEvents events, NoticeSender notices)
{
    /// <summary>
    /// Publishes the events and notices of <paramref name="recorded"/>, and returns the envelope a
    /// deferred copy of the message starts from: it remembers a delay notice sent now.
    /// </summary>
    public async Task<SpoolEnvelope> RecordAsync(
        SpooledMessage message,
        IReadOnlyList<RecordedOutcome> recorded,
        CancellationToken cancellationToken)
    {
        // Events first: should the notice then fail, the message comes back and its events are
        // published twice, which is kinder than a second bounce in someone's mailbox.
        // Limitation: a failure here returns the spool message at once (no pause, each return
        // counting toward the delivery limit), and its delivered recipients get it again.
        await events.PublishAsync(message.Envelope, recorded, cancellationToken).ConfigureAwait(false);
        var delayNotified = await notices.SendAsync(message, recorded, cancellationToken)
            .ConfigureAwait(false);
        return delayNotified ? message.Envelope with { DelayNotified = true } : message.Envelope;
    }
}
