using MailMesh.Spool;

namespace MailMesh.Delivery.Notices;

/// <summary>
/// Tells senders about their recipients' outcomes with delivery status notifications, each
/// spooled as a new message from the null reverse path to the sender and confirmed by the broker
/// before the original spool message may be acknowledged: a bounce is never lost, and it is
/// delivered like any other message along the sender's route.
/// </summary>
internal sealed partial class NoticeSender(
    NoticeBuilder builder,
    SpoolConsumer spool,
    QueueIdGenerator queueIds,
    TimeProvider time,
    TimeSpan delayWarningTime,
    ILogger<NoticeSender> logger)
{
    /// <summary>
    /// Spools the bounce for the failed and expired recipients of one spool message, the success
    /// notice for delivered ones whose NOTIFY asked for it, and the delay notice for its deferred
    /// ones when it is due; returns true when a delay notice was sent, so
    /// the deferred copy records it and later attempts send none.
    /// </summary>
    public async Task<bool> SendAsync(
        SpooledMessage message,
        IReadOnlyList<RecordedOutcome> outcomes,
        CancellationToken cancellationToken)
    {
        var envelope = message.Envelope;
        var failed = outcomes
            .Where(recorded => recorded.Outcome.Kind is OutcomeKind.Failed or OutcomeKind.Expired)
            .ToList();
        var deferred = outcomes.Where(recorded => recorded.Outcome.Kind == OutcomeKind.Deferred).ToList();
        if (envelope.ReversePath.Length == 0)
        {
            // RFC 5321 6.1 and RFC 3461 6.2: a message from the null reverse path (a notice itself)
            // never gets one, so two MTAs cannot bounce a bounce back and forth.
            if (failed.Count > 0)
            {
                LogNoNoticeForNullSender(logger, envelope.QueueId, failed.Count);
            }

            return false;
        }

        var bounced = failed.Where(recorded => NotifyRequest.WantsFailure(recorded.Outcome.Recipient))
            .ToList();
        if (bounced.Count > 0)
        {
            var id = await SpoolAsync(NoticeKind.Failure, message, bounced, cancellationToken)
                .ConfigureAwait(false);
            LogBounced(logger, envelope.QueueId, id, envelope.ReversePath, Addresses(bounced));
        }

        // RFC 3461 5.2.2 and 5.3: a delivery, or a relay to a server that cannot pass NOTIFY on,
        // ends the DSN chain here, so the sender who asked for SUCCESS hears it from MailMesh.
        var succeeded = outcomes
            .Where(recorded => recorded.Outcome is { Kind: OutcomeKind.Delivered, NotifyPassedOn: false }
                && NotifyRequest.WantsSuccess(recorded.Outcome.Recipient))
            .ToList();
        if (succeeded.Count > 0)
        {
            var id = await SpoolAsync(NoticeKind.Success, message, succeeded, cancellationToken)
                .ConfigureAwait(false);
            LogSuccessNotice(logger, envelope.QueueId, id, envelope.ReversePath, Addresses(succeeded));
        }

        if (envelope.DelayNotified || delayWarningTime <= TimeSpan.Zero
            || time.GetUtcNow() - envelope.ArrivedAt < delayWarningTime)
        {
            return false;
        }

        var delayed = deferred.Where(recorded => NotifyRequest.WantsDelay(recorded.Outcome.Recipient))
            .ToList();
        if (delayed.Count == 0)
        {
            return false;
        }

        var noticeId = await SpoolAsync(NoticeKind.Delay, message, delayed, cancellationToken)
            .ConfigureAwait(false);
        LogDelayNotice(logger, envelope.QueueId, noticeId, envelope.ReversePath, Addresses(delayed));
        return true;
    }

    private async Task<string> SpoolAsync(
        NoticeKind kind,
        SpooledMessage message,
        IReadOnlyList<RecordedOutcome> outcomes,
        CancellationToken cancellationToken)
    {
        var original = message.Envelope;
        var id = queueIds.Next();
        using var activity = DeliveryTelemetry.StartNotice(kind.ToString().ToLowerInvariant(), original.QueueId);
        activity?.SetTag("mailmesh.notice.queue_id", id);
        var now = time.GetUtcNow();
        var content = builder.Build(kind, original, message.Body, outcomes, id, now);
        var envelope = new SpoolEnvelope(
            QueueId: id,
            ReversePath: string.Empty,
            Recipients: [new SpoolRecipient(original.ReversePath)],
            ArrivedAt: now,
            Attempt: 0,
            // Made here, not received from a client.
            ClientAddress: string.Empty,
            ClientHelo: string.Empty,
            Body: content.AsSpan().ContainsAnyInRange((byte)0x80, (byte)0xFF) ? "8BITMIME" : "7BIT",
            Part: 1,
            Parts: 1,
            SmtpUtf8: original.SmtpUtf8);
        await spool.PublishToSpoolAsync(envelope, content, cancellationToken).ConfigureAwait(false);
        return id;
    }

    private static string Addresses(IEnumerable<RecordedOutcome> outcomes) =>
        string.Join(", ", outcomes.Select(recorded => "<" + recorded.Outcome.Recipient.Address + ">"));

    [LoggerMessage(EventId = 660, Level = LogLevel.Information,
        Message = "{QueueId}: bounce {NoticeQueueId} to <{Sender}> for {Recipients}")]
    private static partial void LogBounced(ILogger logger, string queueId, string noticeQueueId,
        string sender, string recipients);

    [LoggerMessage(EventId = 661, Level = LogLevel.Information,
        Message = "{QueueId}: delay notice {NoticeQueueId} to <{Sender}> for {Recipients}")]
    private static partial void LogDelayNotice(ILogger logger, string queueId, string noticeQueueId,
        string sender, string recipients);

    [LoggerMessage(EventId = 663, Level = LogLevel.Information,
        Message = "{QueueId}: success notice {NoticeQueueId} to <{Sender}> for {Recipients}")]
    private static partial void LogSuccessNotice(ILogger logger, string queueId, string noticeQueueId,
        string sender, string recipients);

    [LoggerMessage(EventId = 662, Level = LogLevel.Information,
        Message = "{QueueId}: no bounce for {Count} failed recipients: the reverse path is null")]
    private static partial void LogNoNoticeForNullSender(ILogger logger, string queueId, int count);
}
