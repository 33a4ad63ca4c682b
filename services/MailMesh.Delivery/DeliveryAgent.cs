using System.Diagnostics;
using System.Globalization;
using MailMesh.Delivery.Maildir;
using MailMesh.Delivery.Mx;
using MailMesh.Delivery.Relay;
using MailMesh.Delivery.Routing;
using MailKit.Security;
using MailMesh.Spool;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

/// <summary>
/// Brings every recipient of a spooled message to an outcome along its route, and records the
/// outcomes durably before the spool message may be acknowledged: deferred recipients travel on
/// in one copy, confirmed by the broker into the wait queue of their next attempt, unless that
/// attempt would come after the queue lifetime: then they expire.
/// </summary>
internal sealed partial class DeliveryAgent(
    TransportMap map,
    MaildirWriter maildir,
    SmtpRelay relay,
    MxResolver mx,
    SpoolConsumer spool,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    OutcomeRecorder recorder,
    ILogger<DeliveryAgent> logger)
{
    private readonly DeliveryOptions _options = options.Value;

    public async Task HandleAsync(SpooledMessage message, CancellationToken cancellationToken)
    {
        var envelope = message.Envelope;
        var outcomes = await AttemptAsync(message, cancellationToken).ConfigureAwait(false);
        var retryDelay = _options.RetryDelayAfter(envelope.Attempt + 1);
        var recorded = ExpireLate(envelope, outcomes, retryDelay)
            .Select(outcome => new RecordedOutcome(
                outcome,
                map.Resolve(TransportMap.DomainOf(outcome.Recipient.Address)).Name,
                RecordedOutcome.HostOf(outcome.Remote)))
            .ToList();

        foreach (var outcome in recorded.Where(outcome => outcome.Outcome.Kind != OutcomeKind.Deferred))
        {
            Log(message, outcome, retryDelay);
        }

        // Events, bounces and delay notices, confirmed before the message may be acknowledged.
        var start = await recorder.RecordAsync(message, recorded, cancellationToken).ConfigureAwait(false);
        await DeferAsync(message, start, recorded, retryDelay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Tries every recipient once, within <see cref="DeliveryOptions.AttemptTimeout"/>: the
    /// recipients of a route still in progress when it runs out are deferred, so the spool
    /// message is settled long before the broker's consumer timeout.
    /// </summary>
    private async Task<List<RecipientOutcome>> AttemptAsync(
        SpooledMessage message,
        CancellationToken cancellationToken)
    {
        var envelope = message.Envelope;
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var outcomes = new List<RecipientOutcome>(envelope.Recipients.Count);
        foreach (var group in envelope.Recipients.GroupBy(recipient =>
            map.Resolve(TransportMap.DomainOf(recipient.Address))))
        {
            using var activity = DeliveryTelemetry.StartDelivery(group.Key.Name, group.Count());
            if (_options.TraceRecipients && activity is { IsAllDataRequested: true })
            {
                activity.SetTag("mailmesh.recipients", group.Select(recipient => recipient.Address).ToArray());
            }

            var started = time.GetTimestamp();
            var tags = new KeyValuePair<string, object?>("mailmesh.route", group.Key.Name);
            DeliveryTelemetry.Attempts.Add(1, tags);
            try
            {
                var delivered = await DeliverAsync(group.Key, envelope, [.. group], message.Body,
                    attempt.Token).ConfigureAwait(false);
                outcomes.AddRange(delivered);
                if (delivered.Any(outcome => outcome.Kind != OutcomeKind.Delivered))
                {
                    activity?.SetStatus(ActivityStatusCode.Error, delivered
                        .First(outcome => outcome.Kind != OutcomeKind.Delivered).Reply);
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested
                && !cancellationToken.IsCancellationRequested)
            {
                // Limitation: every recipient of the interrupted route is deferred, also one it
                // had delivered already (a Maildir written before the deadline); that one is
                // delivered a second time at the next attempt.
                var reply = "451 4.4.2 delivery attempt not finished within "
                    + Readable(_options.AttemptTimeout);
                outcomes.AddRange(group.Select(recipient =>
                    new RecipientOutcome(recipient, OutcomeKind.Deferred, reply, null)));
                activity?.SetStatus(ActivityStatusCode.Error, reply);
            }
            finally
            {
                DeliveryTelemetry.AttemptDuration.Record(time.GetElapsedTime(started).TotalSeconds, tags);
            }
        }

        return outcomes;
    }

    /// <summary>
    /// Deferred recipients expire when their next attempt would come after the message's queue
    /// lifetime (RFC 5321 4.5.4.1: give up after some days); the reply keeps the last one they got.
    /// </summary>
    private List<RecipientOutcome> ExpireLate(
        SpoolEnvelope envelope,
        List<RecipientOutcome> outcomes,
        TimeSpan retryDelay)
    {
        var now = time.GetUtcNow();
        if (now + retryDelay <= envelope.ArrivedAt + _options.MaxQueueLifetime)
        {
            return outcomes;
        }

        var age = Readable(now - envelope.ArrivedAt);
        return [.. outcomes.Select(outcome => outcome.Kind != OutcomeKind.Deferred
            ? outcome
            : outcome with
            {
                Kind = OutcomeKind.Expired,
                Reply = $"451 4.4.7 message expired after {age} in the queue: {outcome.Reply}",
            })];
    }

    /// <summary>
    /// Sends the deferred recipients on in one copy of the message, its attempt counted, into
    /// the wait queue of <paramref name="retryDelay"/>; returns once the broker confirmed it.
    /// </summary>
    private async Task DeferAsync(
        SpooledMessage message,
        SpoolEnvelope start,
        List<RecordedOutcome> outcomes,
        TimeSpan retryDelay,
        CancellationToken cancellationToken)
    {
        var deferred = outcomes.Where(outcome => outcome.Outcome.Kind == OutcomeKind.Deferred).ToList();
        if (deferred.Count == 0)
        {
            return;
        }

        var copy = start with
        {
            Recipients = [.. deferred.Select(outcome => outcome.Outcome.Recipient)],
            Attempt = message.Envelope.Attempt + 1,
        };
        await spool.PublishDeferredAsync(copy, message.Body, retryDelay, deferred[0].Outcome.Reply,
            cancellationToken).ConfigureAwait(false);
        foreach (var outcome in deferred)
        {
            Log(message, outcome, retryDelay);
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

            case SmarthostRoute smarthost:
                return await relay.DeliverAsync(TargetOf(smarthost), envelope, recipients, content,
                    cancellationToken).ConfigureAwait(false);

            default:
                return await DeliverToMxAsync(envelope, recipients, content, cancellationToken)
                    .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Relays to each recipient domain's mail exchangers, as DNS names them; a domain that has
    /// none gives all its recipients the resolver's reply.
    /// </summary>
    private async Task<IReadOnlyList<RecipientOutcome>> DeliverToMxAsync(
        SpoolEnvelope envelope,
        IReadOnlyList<SpoolRecipient> recipients,
        byte[] content,
        CancellationToken cancellationToken)
    {
        var outcomes = new List<RecipientOutcome>(recipients.Count);
        foreach (var domain in recipients.GroupBy(recipient =>
            TransportMap.DomainOf(recipient.Address).ToLowerInvariant()))
        {
            var resolution = await mx.ResolveAsync(domain.Key, cancellationToken).ConfigureAwait(false);
            if (resolution.FailureReply is { } reply)
            {
                var kind = RecipientOutcome.KindOf(int.Parse(reply.AsSpan(0, 3), CultureInfo.InvariantCulture));
                outcomes.AddRange(domain.Select(recipient => new RecipientOutcome(recipient, kind, reply, null)));
                continue;
            }

            // RFC 3207 and RFC 7435: STARTTLS whenever a mail exchanger offers it, whatever its
            // certificate, since MX hosts are rarely named in theirs and refusing would only
            // send the message in plain text.
            var target = new SmtpTarget(MxRoute.Instance.Name, resolution.Endpoints,
                SecureSocketOptions.StartTlsWhenAvailable, VerifyCertificate: false,
                Credentials: null, NamesEndpoint: true);
            outcomes.AddRange(await relay.DeliverAsync(target, envelope, [.. domain], content, cancellationToken)
                .ConfigureAwait(false));
        }

        return outcomes;
    }

    private static SmtpTarget TargetOf(SmarthostRoute route) => new(
        route.Name,
        [new SmtpEndpoint(route.Host, null, route.Port)],
        route.Security switch
        {
            SmarthostSecurity.Required => SecureSocketOptions.StartTls,
            SmarthostSecurity.None => SecureSocketOptions.None,
            SmarthostSecurity.Implicit => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        },
        // RFC 7435: opportunistic TLS encrypts whatever the certificate; refusing a self-signed
        // one would only send the message in plain text or not at all.
        VerifyCertificate: route.Security != SmarthostSecurity.Opportunistic,
        route.Credentials,
        NamesEndpoint: false);

    private void Log(SpooledMessage message, RecordedOutcome recorded, TimeSpan retryDelay)
    {
        var envelope = message.Envelope;
        var outcome = recorded.Outcome;
        var route = new KeyValuePair<string, object?>("mailmesh.route", recorded.Route);
        var kind = new KeyValuePair<string, object?>("mailmesh.outcome", outcome.Kind.ToString().ToLowerInvariant());
        DeliveryTelemetry.Outcomes.Add(1, kind, route);
        DeliveryTelemetry.Latency.Record((time.GetUtcNow() - envelope.ArrivedAt).TotalSeconds, kind, route);
        var remote = outcome.Remote ?? "none";
        switch (outcome.Kind)
        {
            case OutcomeKind.Delivered:
                LogDelivered(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, outcome.Reply);
                break;
            case OutcomeKind.Deferred:
                LogDeferred(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, Readable(retryDelay), outcome.Reply);
                break;
            case OutcomeKind.Expired:
                LogExpired(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, outcome.Reply);
                break;
            default:
                LogFailed(logger, envelope.QueueId, message.MessageId, outcome.Recipient.Address, remote,
                    envelope.Attempt + 1, outcome.Reply);
                break;
        }
    }

    // The two largest units, rounded down to the second: "4d 23h", "20m", "1m 30s".
    private static string Readable(TimeSpan span)
    {
        (string Unit, long Length)[] units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
        var rest = Math.Max(0L, (long)span.TotalSeconds);
        var parts = new List<string>(2);
        foreach (var (unit, length) in units)
        {
            var count = rest / length;
            rest %= length;
            if (count > 0)
            {
                parts.Add(count.ToString(CultureInfo.InvariantCulture) + unit);
            }

            if (parts.Count == 2 || (parts.Count == 1 && count == 0))
            {
                break;
            }
        }

        return parts.Count == 0 ? "0s" : string.Join(' ', parts);
    }

    [LoggerMessage(EventId = 520, Level = LogLevel.Information,
        Message = "{QueueId}: delivered to <{Recipient}> via {Remote}, attempt {Attempt}: {Reply} ({MessageId})")]
    private static partial void LogDelivered(ILogger logger, string queueId, string? messageId, string recipient,
        string remote, int attempt, string reply);

    [LoggerMessage(EventId = 521, Level = LogLevel.Information,
        Message = "{QueueId}: deferred <{Recipient}> via {Remote}, attempt {Attempt}, next in {RetryDelay}: "
            + "{Reply} ({MessageId})")]
    private static partial void LogDeferred(ILogger logger, string queueId, string? messageId, string recipient,
        string remote, int attempt, string retryDelay, string reply);

    [LoggerMessage(EventId = 522, Level = LogLevel.Information,
        Message = "{QueueId}: failed <{Recipient}> via {Remote}, attempt {Attempt}: {Reply} ({MessageId})")]
    private static partial void LogFailed(ILogger logger, string queueId, string? messageId, string recipient,
        string remote, int attempt, string reply);

    [LoggerMessage(EventId = 630, Level = LogLevel.Information,
        Message = "{QueueId}: expired <{Recipient}> via {Remote} after {Attempts} attempts: {Reply} "
            + "({MessageId})")]
    private static partial void LogExpired(ILogger logger, string queueId, string? messageId,
        string recipient, string remote, int attempts, string reply);
}
