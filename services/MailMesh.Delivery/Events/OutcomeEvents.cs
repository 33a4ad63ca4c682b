using MailMesh.Contracts;
using MailMesh.Spool;
using MassTransit;

namespace MailMesh.Delivery.Events;

/// <summary>
/// Publishes one event per recipient outcome (see <c>MailMesh.Contracts</c>) through the MassTransit
/// bus, and returns once the broker confirmed them all, so the spool message is acknowledged only
/// after its events are kept. With events disabled there is no bus and nothing is published.
/// </summary>
internal sealed partial class OutcomeEvents(
    IBus? bus,
    TimeSpan publishTimeout,
    TimeProvider time,
    ILogger<OutcomeEvents> logger)
{
    public async Task PublishAsync(
        SpoolEnvelope envelope,
        IReadOnlyList<RecordedOutcome> outcomes,
        CancellationToken cancellationToken)
    {
        if (bus is null || outcomes.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var attempt = envelope.Attempt + 1;
        // MassTransit waits for a lost connection to come back; the deadline makes a broker
        // outage fail this attempt instead of holding the spool message past the consumer timeout.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(publishTimeout);
        try
        {
            await Task.WhenAll(outcomes.Select(recorded =>
                    PublishOneAsync(envelope.QueueId, attempt, now, recorded, deadline.Token)))
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogNotConfirmed(logger, envelope.QueueId, publishTimeout);
            throw new TimeoutException(
                $"the outcome events of {envelope.QueueId} were not confirmed within {publishTimeout}", e);
        }
    }

    private Task PublishOneAsync(
        string queueId,
        int attempt,
        DateTimeOffset now,
        RecordedOutcome recorded,
        CancellationToken cancellationToken)
    {
        var outcome = recorded.Outcome;
        var recipient = outcome.Recipient.Address;
        return outcome.Kind switch
        {
            OutcomeKind.Delivered => bus!.Publish(new RecipientDelivered(queueId, recipient, recorded.Route,
                recorded.RemoteHost, outcome.Reply, attempt, now), cancellationToken),
            OutcomeKind.Deferred => bus!.Publish(new RecipientDeferred(queueId, recipient, recorded.Route,
                recorded.RemoteHost, outcome.Reply, attempt, now), cancellationToken),
            OutcomeKind.Failed => bus!.Publish(new RecipientFailed(queueId, recipient, recorded.Route,
                recorded.RemoteHost, outcome.Reply, attempt, now), cancellationToken),
            OutcomeKind.Expired => bus!.Publish(new RecipientExpired(queueId, recipient, recorded.Route,
                recorded.RemoteHost, outcome.Reply, attempt, now), cancellationToken),
            _ => throw new InvalidOperationException($"No event for the outcome {outcome.Kind}."),
        };
    }

    [LoggerMessage(EventId = 670, Level = LogLevel.Warning,
        Message = "{QueueId}: events not confirmed within {Timeout}; the message returns to the spool")]
    private static partial void LogNotConfirmed(ILogger logger, string queueId, TimeSpan timeout);
}
