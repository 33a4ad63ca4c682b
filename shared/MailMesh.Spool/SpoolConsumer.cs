using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace MailMesh.Spool;

/// <summary>
/// Takes messages from the spool queue, at most a prefetch's worth at a time, and acknowledges
/// each only once its handler returned. A message whose envelope cannot be read is rejected
/// without requeue, so the broker dead-letters it to the poison queue instead of handing it out
/// again. The connection is made again after the broker went away; what was unacknowledged then
/// is delivered again (at least once, never lost).
/// </summary>
public sealed partial class SpoolConsumer(
    IOptions<RabbitMqOptions> options,
    SpoolTopology topology,
    ILogger<SpoolConsumer> logger)
{
    /// <summary>Header of a deferred copy: the reply that deferred it, for an operator.</summary>
    public const string DeferredReason = "mm-deferred-reason";

    /// <summary>Header of a message in the poison queue: why no worker could read it.</summary>
    public const string PoisonReason = "mm-poison-reason";

    private const int PublishChannels = 4;

    private readonly RabbitMqOptions _options = options.Value;
    private readonly SpoolTopology _topology = topology;
    private readonly ILogger _logger = logger;
    private volatile ConsumerLink? _link;

    /// <summary>True while a connection to the broker is open and consuming.</summary>
    public bool IsConsuming => _link is { IsOpen: true };

    /// <summary>
    /// Consumes until <paramref name="stoppingToken"/> fires. Then it takes no new message, gives
    /// the handlers in flight <paramref name="drainTimeout"/> to finish, cancels those still
    /// running (their messages return to the spool) and returns.
    /// </summary>
    /// <remarks>
    /// A handler must return well inside the broker's consumer timeout (<c>consumer_timeout</c>,
    /// 30 minutes by default): past it the broker closes the channel and hands every message in
    /// flight on it to another worker, while this one may still be delivering them. The consumer
    /// sets no deadline of its own; the handler knows which of its work can be cut short.
    /// </remarks>
    public async Task RunAsync(
        SpoolHandler handler,
        int prefetch,
        TimeSpan drainTimeout,
        CancellationToken stoppingToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefetch, ushort.MaxValue);
        while (!stoppingToken.IsCancellationRequested)
        {
            ConsumerLink link;
            try
            {
                link = await ConsumerLink.OpenAsync(this, handler, prefetch, stoppingToken)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException
                || !stoppingToken.IsCancellationRequested)
            {
                LogConnectFailed(_logger, _options.Uri.Host, _options.Uri.Port, e.Message);
                await PauseAsync(stoppingToken).ConfigureAwait(false);
                continue;
            }

            _link = link;
            LogConsuming(_logger, _topology.SpoolQueue, prefetch);
            try
            {
                await link.RunUntilLostOrStoppedAsync(drainTimeout, stoppingToken).ConfigureAwait(false);
            }
            finally
            {
                _link = null;
                await link.DisposeAsync().ConfigureAwait(false);
            }

            if (!stoppingToken.IsCancellationRequested)
            {
                LogLinkLost(_logger, link.LostReason ?? "unknown");
                await PauseAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Publishes a copy of a spool message into the wait queue of <paramref name="delay"/>,
    /// from which the broker returns it to the spool once the delay is over, and returns once the
    /// broker has confirmed it; throws <see cref="SpoolUnavailableException"/> when it did not.
    /// </summary>
    public Task PublishDeferredAsync(
        SpoolEnvelope envelope,
        ReadOnlyMemory<byte> body,
        TimeSpan delay,
        string reason,
        CancellationToken cancellationToken)
    {
        var queue = _topology.WaitQueue(delay);
        if (!_topology.WaitQueues.Contains(queue))
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay,
                "No wait queue of this delay is declared.");
        }

        var headers = EnvelopeHeaders.Write(envelope);
        headers[DeferredReason] = reason;
        return PublishConfirmedAsync(queue, envelope, headers, body, cancellationToken);
    }

    /// <summary>
    /// Messages ready in each queue of the topology (spool, poison, wait queues), as the broker
    /// counts them now; throws <see cref="SpoolUnavailableException"/> while it is unreachable.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, uint>> CountQueuesAsync(CancellationToken cancellationToken)
    {
        var link = _link is { IsOpen: true } open
            ? open
            : throw new SpoolUnavailableException("the broker connection is not open");
        try
        {
            return await link.CountAsync([_topology.SpoolQueue, _topology.PoisonQueue, .. _topology.WaitQueues],
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
            or IOException or ObjectDisposedException)
        {
            throw new SpoolUnavailableException("the broker connection failed: " + e.Message, e);
        }
    }

    private async Task PauseAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(_options.ReconnectDelay, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop ends.
        }
    }

    /// <summary>
    /// Publishes a new message into the spool queue, such as a delivery status notification, on
    /// this consumer's connection, and returns once the broker has confirmed it; throws
    /// <see cref="SpoolUnavailableException"/> when it did not. A handler that awaits this before
    /// returning never has its own spool message acknowledged without the new one kept.
    /// </summary>
    public Task PublishToSpoolAsync(
        SpoolEnvelope envelope,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken) =>
        PublishConfirmedAsync(_topology.SpoolQueue, envelope, EnvelopeHeaders.Write(envelope), body,
            cancellationToken);

    private async Task PublishConfirmedAsync(
        string queue,
        SpoolEnvelope envelope,
        Dictionary<string, object?> headers,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var link = _link is { IsOpen: true } open
            ? open
            : throw new SpoolUnavailableException("the broker connection is not open");
        // The trace goes on with the message: its next attempt, or the notice's own delivery.
        using var activity = SpoolTelemetry.StartPublish(queue, EnvelopeHeaders.MessageId(envelope),
            body.Length);
        SpoolTelemetry.Inject(activity, headers);
        var properties = EnvelopeHeaders.Properties(envelope, headers);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConfirmTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await link.PublishAsync(queue, properties, body, deadline.Token).ConfigureAwait(false);
            SpoolTelemetry.ConfirmDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (PublishException e)
        {
            // A full queue (x-overflow: reject-publish) nacks; the handler's message then stays.
            activity?.SetStatus(ActivityStatusCode.Error, "refused by the broker");
            throw new SpoolUnavailableException(
                e.IsReturn
                    ? $"the broker could not route the message to {queue}"
                    : $"the broker refused the message for {queue}",
                e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "no confirm in time");
            throw new SpoolUnavailableException(
                $"the broker did not confirm within {_options.ConfirmTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
            or IOException or ObjectDisposedException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "connection failed");
            throw new SpoolUnavailableException("the broker connection failed: " + e.Message, e);
        }
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information,
        Message = "Consuming {Queue} with a prefetch of {Prefetch}")]
    private static partial void LogConsuming(ILogger logger, string queue, int prefetch);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning,
        Message = "Cannot consume from the broker at {Host}:{Port}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning,
        Message = "Lost the spool consumer: {Reason}; unacknowledged messages return to the spool")]
    private static partial void LogLinkLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 503, Level = LogLevel.Error,
        Message = "Unreadable spool message {MessageId} sent to the poison queue: {Reason}")]
    private static partial void LogPoison(ILogger logger, string? messageId, string reason);

    [LoggerMessage(EventId = 504, Level = LogLevel.Error,
        Message = "Handling spool message {MessageId} failed; it returns to the spool")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string? messageId);

    [LoggerMessage(EventId = 505, Level = LogLevel.Warning,
        Message = "Could not settle spool message {MessageId}; the broker will deliver it again: {Reason}")]
    private static partial void LogSettleFailed(ILogger logger, string? messageId, string reason);

    [LoggerMessage(EventId = 506, Level = LogLevel.Information,
        Message = "Stopping: waiting up to {Timeout} for {Count} deliveries in progress")]
    private static partial void LogDraining(ILogger logger, TimeSpan timeout, int count);

    [LoggerMessage(EventId = 507, Level = LogLevel.Warning,
        Message = "Stopping: {Count} deliveries still in progress are cancelled and return to the spool")]
    private static partial void LogDrainCancelled(ILogger logger, int count);

    [LoggerMessage(EventId = 508, Level = LogLevel.Warning,
        Message = "Queue {Queue} exists with other arguments than configured; it is used as it is")]
    private static partial void LogQueueMismatch(ILogger logger, string queue);

    /// <summary>One broker connection: the consuming channel and a few channels to publish on.</summary>
    private sealed class ConsumerLink : IAsyncDisposable
    {
        private readonly SpoolConsumer _owner;
        private readonly IConnection _connection;
        private readonly SpoolHandler _handler;
        private readonly Channel<IChannel?> _publishers;
        private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _abort = new();
        private IChannel? _channel;
        private string? _consumerTag;
        private int _inFlight;
        private volatile bool _stopping;

        private ConsumerLink(SpoolConsumer owner, IConnection connection, SpoolHandler handler)
        {
            _owner = owner;
            _connection = connection;
            _handler = handler;
            _publishers = System.Threading.Channels.Channel.CreateBounded<IChannel?>(PublishChannels);
            for (var i = 0; i < PublishChannels; i++)
            {
                _publishers.Writer.TryWrite(null);
            }
        }

        public bool IsOpen => _connection.IsOpen && _channel is { IsOpen: true } && !_lost.Task.IsCompleted;

        public string? LostReason { get; private set; }

        public static async Task<ConsumerLink> OpenAsync(
            SpoolConsumer owner,
            SpoolHandler handler,
            int prefetch,
            CancellationToken cancellationToken)
        {
            var options = owner._options;
            var factory = new ConnectionFactory
            {
                Uri = options.Uri,
                RequestedConnectionTimeout = options.ConnectTimeout,
                // A lost connection is replaced by a new link: the client's own recovery would
                // resume a consumer whose unacknowledged deliveries the broker already requeued.
                AutomaticRecoveryEnabled = false,
                TopologyRecoveryEnabled = false,
                ClientProvidedName = "mailmesh:" + AppDomain.CurrentDomain.FriendlyName,
            };

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout * 2);
            var connection = await factory.CreateConnectionAsync(timeout.Token).ConfigureAwait(false);
            var link = new ConsumerLink(owner, connection, handler);
            try
            {
                await link.StartAsync(prefetch, timeout.Token).ConfigureAwait(false);
                return link;
            }
            catch
            {
                await link.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task RunUntilLostOrStoppedAsync(TimeSpan drainTimeout, CancellationToken stoppingToken)
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (stoppingToken.Register(() => stopped.TrySetResult()).ConfigureAwait(false))
            {
                await Task.WhenAny(_lost.Task, stopped.Task).ConfigureAwait(false);
            }

            if (_lost.Task.IsCompleted)
            {
                // Nothing in flight can be acknowledged any more: the broker has requeued it all.
                await _abort.CancelAsync().ConfigureAwait(false);
                return;
            }

            await DrainAsync(drainTimeout).ConfigureAwait(false);
        }

        public async Task PublishAsync(
            string queue,
            BasicProperties properties,
            ReadOnlyMemory<byte> body,
            CancellationToken cancellationToken)
        {
            var channel = await _publishers.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var reusable = false;
            try
            {
                if (channel is not { IsOpen: true })
                {
                    if (channel is not null)
                    {
                        await channel.DisposeAsync().ConfigureAwait(false);
                    }

                    channel = null;
                    channel = await _connection.CreateChannelAsync(
                        new CreateChannelOptions(
                            publisherConfirmationsEnabled: true,
                            publisherConfirmationTrackingEnabled: true),
                        cancellationToken).ConfigureAwait(false);
                }

                await channel.BasicPublishAsync(
                    exchange: "",
                    routingKey: queue,
                    mandatory: true,
                    basicProperties: properties,
                    body: body,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                reusable = true;
            }
            catch (PublishException)
            {
                // A nack or a return settles the publish; the channel is fine for the next one.
                reusable = true;
                throw;
            }
            finally
            {
                if (reusable)
                {
                    _publishers.Writer.TryWrite(channel);
                }
                else
                {
                    // A publish abandoned before its confirm leaves the channel in doubt.
                    _publishers.Writer.TryWrite(null);
                    if (channel is not null)
                    {
                        await CloseQuietlyAsync(channel).ConfigureAwait(false);
                    }
                }
            }
        }

        public async Task<IReadOnlyDictionary<string, uint>> CountAsync(
            IEnumerable<string> queues,
            CancellationToken cancellationToken)
        {
            // A channel of its own: a passive declare of a queue that is gone closes its channel.
            var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            try
            {
                var counts = new Dictionary<string, uint>(StringComparer.Ordinal);
                foreach (var queue in queues)
                {
                    var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken)
                        .ConfigureAwait(false);
                    counts[queue] = declared.MessageCount;
                }

                return counts;
            }
            finally
            {
                await CloseQuietlyAsync(channel).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Puts an unreadable message into the poison queue with the reason in a header, for the
        /// operator who looks at it; false when the broker did not confirm it, and the message is
        /// then dead-lettered there by a reject instead, without the reason.
        /// </summary>
        private async Task<bool> QuarantineAsync(BasicDeliverEventArgs args, string reason)
        {
            var received = args.BasicProperties;
            var headers = received.Headers is { } original
                ? new Dictionary<string, object?>(original, StringComparer.Ordinal)
                : new Dictionary<string, object?>(StringComparer.Ordinal);
            headers[PoisonReason] = reason;
            var properties = new BasicProperties
            {
                Persistent = true,
                ContentType = received.ContentType,
                MessageId = received.MessageId,
                AppId = received.AppId,
                Timestamp = received.Timestamp,
                Headers = headers,
            };

            using var deadline = new CancellationTokenSource(_owner._options.ConfirmTimeout);
            try
            {
                await PublishAsync(_owner._topology.PoisonQueue, properties, args.Body, deadline.Token)
                    .ConfigureAwait(false);
                return true;
            }
            catch (Exception e) when (e is PublishException or OperationCanceledException
                or RabbitMQClientException or OperationInterruptedException or IOException)
            {
                return false;
            }
        }

        private async Task StartAsync(int prefetch, CancellationToken cancellationToken)
        {
            _connection.ConnectionShutdownAsync += (_, args) => MarkLost(args.ReplyText);
            foreach (var queue in await _owner._topology.DeclareAsync(_connection, cancellationToken)
                .ConfigureAwait(false))
            {
                LogQueueMismatch(_owner._logger, queue);
            }

            // As many handlers run at once as messages may be unacknowledged: the prefetch is
            // the worker's concurrency.
            _channel = await _connection.CreateChannelAsync(
                new CreateChannelOptions(
                    publisherConfirmationsEnabled: false,
                    publisherConfirmationTrackingEnabled: false,
                    consumerDispatchConcurrency: (ushort)prefetch),
                cancellationToken).ConfigureAwait(false);
            _channel.ChannelShutdownAsync += (_, args) => MarkLost(args.ReplyText);
            await _channel.BasicQosAsync(0, (ushort)prefetch, global: false, cancellationToken)
                .ConfigureAwait(false);

            var consumer = new AsyncEventingBasicConsumer(_channel);
            consumer.ReceivedAsync += (_, args) => OnReceivedAsync(args);
            consumer.UnregisteredAsync += (_, _) =>
                _stopping ? Task.CompletedTask : MarkLost("the broker cancelled the consumer");
            _consumerTag = await _channel.BasicConsumeAsync(
                _owner._topology.SpoolQueue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        }

        private Task MarkLost(string reason)
        {
            LostReason ??= reason;
            _lost.TrySetResult();
            return Task.CompletedTask;
        }

        private async Task OnReceivedAsync(BasicDeliverEventArgs args)
        {
            var channel = _channel!;
            var messageId = args.BasicProperties.MessageId;
            Interlocked.Increment(ref _inFlight);
            try
            {
                if (_stopping)
                {
                    // Prefetched but not started: straight back to the spool for another worker.
                    await channel.BasicNackAsync(args.DeliveryTag, multiple: false, requeue: true)
                        .ConfigureAwait(false);
                    return;
                }

                SpoolEnvelope envelope;
                try
                {
                    envelope = EnvelopeHeaders.Read(args.BasicProperties.Headers);
                }
                catch (Exception e) when (e is FormatException or OverflowException)
                {
                    // Rejected without requeue, the broker dead-letters it to the poison queue:
                    // a message no worker can read must not go round forever.
                    LogPoison(_owner._logger, messageId, e.Message);
                    if (await QuarantineAsync(args, e.Message).ConfigureAwait(false))
                    {
                        await channel.BasicAckAsync(args.DeliveryTag, multiple: false).ConfigureAwait(false);
                    }
                    else
                    {
                        await channel.BasicRejectAsync(args.DeliveryTag, requeue: false).ConfigureAwait(false);
                    }

                    return;
                }

                var message = new SpooledMessage(envelope, args.Body.ToArray(), messageId, args.Redelivered);
                using var activity = SpoolTelemetry.StartProcess(
                    _owner._topology.SpoolQueue, message, args.BasicProperties.Headers);
                try
                {
                    await _handler(message, _abort.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, "returned to the spool: " + e.GetType().Name);
                    // The outcome is not recorded, so the message goes back; the delivery limit
                    // moves one that fails every time to the poison queue.
                    if (e is not OperationCanceledException || !_abort.IsCancellationRequested)
                    {
                        LogHandlerFailed(_owner._logger, e, messageId);
                    }

                    await channel.BasicNackAsync(args.DeliveryTag, multiple: false, requeue: true)
                        .ConfigureAwait(false);
                    return;
                }

                await channel.BasicAckAsync(args.DeliveryTag, multiple: false).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
                or IOException or ObjectDisposedException)
            {
                LogSettleFailed(_owner._logger, messageId, e.Message);
            }
            finally
            {
                if (Interlocked.Decrement(ref _inFlight) == 0 && _stopping)
                {
                    _drained.TrySetResult();
                }
            }
        }

        private async Task DrainAsync(TimeSpan drainTimeout)
        {
            _stopping = true;
            if (_consumerTag is not null && _channel is { IsOpen: true } channel)
            {
                try
                {
                    using var cancelTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await channel.BasicCancelAsync(_consumerTag, noWait: false, cancelTimeout.Token)
                        .ConfigureAwait(false);
                }
                catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
                    or IOException or OperationCanceledException)
                {
                    // Closing the channel below stops the deliveries all the same.
                }
            }

            var count = Volatile.Read(ref _inFlight);
            if (count == 0)
            {
                return;
            }

            LogDraining(_owner._logger, drainTimeout, count);
            if (await Finished(drainTimeout).ConfigureAwait(false))
            {
                return;
            }

            LogDrainCancelled(_owner._logger, Volatile.Read(ref _inFlight));
            await _abort.CancelAsync().ConfigureAwait(false);
            await Finished(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        private async Task<bool> Finished(TimeSpan timeout)
        {
            if (Volatile.Read(ref _inFlight) == 0)
            {
                return true;
            }

            try
            {
                await _drained.Task.WaitAsync(timeout).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        private static async Task CloseQuietlyAsync(IChannel channel)
        {
            try
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
                or IOException or ObjectDisposedException)
            {
                // The channel is gone either way.
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stopping = true;
            await _abort.CancelAsync().ConfigureAwait(false);
            try
            {
                // Closing returns every unacknowledged delivery of this connection to the spool.
                await _connection.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
                or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // Closing a dead connection fails; it is disposed below all the same.
            }

            _connection.Dispose();
            _abort.Dispose();
        }
    }
}
