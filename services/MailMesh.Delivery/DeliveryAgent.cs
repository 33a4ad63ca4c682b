using MailMesh.Delivery.Maildir;
using MailMesh.Delivery.Relay;
using MailMesh.Delivery.Routing;
using MailMesh.Spool;

namespace MailMesh.Delivery;

/// <summary>
/// Brings every recipient of a spooled message to an outcome along its route, and records the
/// outcomes durably before the spool message may be acknowledged: deferred recipients travel on
/// in one copy, confirmed by the broker into the deferred queue.
/// </summary>
internal sealed partial class DeliveryAgent(
    TransportMap map,
    MaildirWriter maildir,
    SmarthostRelay smarthost,
    SpoolConsumer spool,
    ILogger<DeliveryAgent> logger)
{
    public async Task HandleAsync(SpooledMessage message, CancellationToken cancellationToken)
    {
        var envelope = message.Envelope;
        var outcomes = new List<RecipientOutcome>(envelope.Recipients.Count);
        foreach (var group in envelope.Recipients.GroupBy(recipient =>
            map.Resolve(TransportMap.DomainOf(recipient.Address))))
        {
            outcomes.AddRange(await DeliverAsync(group.Key, envelope, [.. group], message.Body, cancellationToken)
                .ConfigureAwait(false));
        }

        foreach (var outcome in outcomes.Where(outcome => outcome.Kind != OutcomeKind.Deferred))
        {
            Log(message, outcome);
        }

        var deferred = outcomes.Where(outcome => outcome.Kind == OutcomeKind.Deferred).ToList();
        if (deferred.Count == 0)
        {
            return;
        }

        // Limitation: deferred recipients wait in the deferred queue, which nothing drains yet;
        // there is no ladder of wait queues, no expiry and no delay notice (RFC 3464) so far.
        var copy = envelope with
        {
            Recipients = [.. deferred.Select(outcome => outcome.Recipient)],
            Attempt = envelope.Attempt + 1,
        };
        await spool.PublishDeferredAsync(copy, message.Body, deferred[0].Reply, cancellationToken)
            .ConfigureAwait(false);
        foreach (var outcome in deferred)
        {
            Log(message, outcome);
        }
    }

    private async Task<IReadOnlyList<RecipientOutcome>> DeliverAsync(
        Route route,
        SpoolEnvelope envelope,
        IReadOnlyList<SpoolRecipient> recipients,
        byte[] content,
        CancellationToken cancellationToken)
    {
        switch (route)
        {
            case MaildirRoute mailboxes:
                var outcomes = new List<RecipientOutcome>(recipients.Count);
                foreach (var recipient in recipients)
                {
                    outcomes.Add(await maildir.DeliverAsync(mailboxes, envelope, recipient, content,
                        cancellationToken).ConfigureAwait(false));
                }

                return outcomes;

            case SmarthostRoute relay:
                return await smarthost.DeliverAsync(relay, envelope, recipients, content, cancellationToken)
                    .ConfigureAwait(false);

            default:
                // Limitation: delivery to MX hosts (DnsClient lookup, A/AAAA fallback, RFC 7505
                // null MX) is not built yet; recipients routed to mx are deferred and wait in the
                // deferred queue.
                return [.. recipients.Select(recipient => new RecipientOutcome(recipient, OutcomeKind.Deferred,
                    "451 4.4.0 delivery to MX hosts is not available yet", null))];
        }
    }

    private void Log(SpooledMessage message, RecipientOutcome outcome)
    {
        var envelope = message.Envelope;
        var remote = outcome.Remote ?? "none";
        switch (outcome.Kind)
        {
            case OutcomeKind.Delivered:
                LogDelivered(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, outcome.Reply);
                break;
            case OutcomeKind.Deferred:
                LogDeferred(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, outcome.Reply);
                break;
            default:
                // Limitation: no delivery status notification (RFC 3464) goes back to the sender
                // yet; a failed recipient is only logged.
                LogFailed(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, outcome.Reply);
                break;
        }
    }

    [LoggerMessage(EventId = 520, Level = LogLevel.Information,
        Message = "{QueueId}: delivered to <{Recipient}> via {Remote}, attempt {Attempt}: {Reply} ({MessageId})")]
    private static partial void LogDelivered(ILogger logger, string queueId, string? messageId, string recipient,
        string remote, int attempt, string reply);

    [LoggerMessage(EventId = 521, Level = LogLevel.Information,
        Message = "{QueueId}: deferred <{Recipient}> via {Remote}, attempt {Attempt}: {Reply} ({MessageId})")]
    private static partial void LogDeferred(ILogger logger, string queueId, string? messageId, string recipient,
        string remote, int attempt, string reply);

    [LoggerMessage(EventId = 522, Level = LogLevel.Information,
        Message = "{QueueId}: failed <{Recipient}> via {Remote}, attempt {Attempt}: {Reply} ({MessageId})")]
    private static partial void LogFailed(ILogger logger, string queueId, string? messageId, string recipient,
        string remote, int attempt, string reply);
}
