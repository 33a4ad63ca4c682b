using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace MailMesh.Spool;

/// <summary>
/// Publishes messages into the spool and returns only once the broker has confirmed them.
/// It owns one connection, made on first use and made again after the broker went away, and
/// a fixed set of channels with publisher confirms, each carrying one publish at a time.
/// </summary>
public sealed partial class SpoolPublisher(
    IOptions<RabbitMqOptions> options,
    SpoolTopology topology,
    TimeProvider time,
    ILogger<SpoolPublisher> logger) : IAsyncDisposable
{
    private readonly RabbitMqOptions _options = options.Value;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private BrokerLink? _link;
    private long _nextAttemptTimestamp;
    private bool _disposed;

    /// <summary>True while the broker is known to be reachable and not blocked.</summary>
    public bool IsReady => _link is { IsOpen: true, BlockedReason: null };

    /// <summary>
    /// Connects and declares the topology now rather than at the first publish; false when the
    /// broker cannot be reached (publishing will try again).
    /// </summary>
    public async Task<bool> TryConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SpoolUnavailableException)
        {
            return false;
        }
    }

    /// <summary>
    /// Publishes one spool message and waits for its confirm. Throws
    /// <see cref="SpoolFullException"/> when the spool is at its length limit and
    /// <see cref="SpoolUnavailableException"/> for every other way the message was not spooled.
    /// </summary>
    public async Task PublishAsync(
        SpoolEnvelope envelope,
        ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken)
    {
        var link = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (link.BlockedReason is { } reason)
        {
            // A blocked broker reads nothing until the alarm clears: waiting would only hold
            // the client until the deadline.
            throw new SpoolUnavailableException($"the broker is blocked: {reason}");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConfirmTimeout);
        using var activity = SpoolTelemetry.StartPublish(topology.SpoolQueue, EnvelopeHeaders.MessageId(envelope),
            message.Length);
        var headers = EnvelopeHeaders.Write(envelope);
        SpoolTelemetry.Inject(activity, headers);
        var properties = EnvelopeHeaders.Properties(envelope, headers);
        var started = Stopwatch.GetTimestamp();

        IChannel? channel = null;
        var keepChannel = false;
        try
        {
            channel = await link.LeaseAsync(deadline.Token).ConfigureAwait(false);
            await channel.BasicPublishAsync(
                exchange: "",
                routingKey: topology.SpoolQueue,
                mandatory: true,
                basicProperties: properties,
                body: message,
                cancellationToken: deadline.Token).ConfigureAwait(false);
            keepChannel = true;
            SpoolTelemetry.ConfirmDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (PublishException e) when (!e.IsReturn)
        {
            keepChannel = true;
            activity?.SetStatus(ActivityStatusCode.Error, "refused by the broker");
            await ThrowForNackAsync(link, e).ConfigureAwait(false);
        }
        catch (PublishException e)
        {
            // Unroutable: the spool queue is gone (deleted by hand). A new link declares it again.
            keepChannel = true;
            link.MarkStale();
            throw new SpoolUnavailableException(
                $"the broker could not route the message to {topology.SpoolQueue}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SpoolUnavailableException(
                $"the broker did not confirm within {_options.ConfirmTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
            or IOException or ObjectDisposedException)
        {
            throw new SpoolUnavailableException("the broker connection failed: " + e.Message, e);
        }
        finally
        {
            await link.ReturnAsync(channel, keepChannel).ConfigureAwait(false);
        }
    }

    private async Task ThrowForNackAsync(BrokerLink link, PublishException nack)
    {
        // A quorum queue at x-max-length with reject-publish nacks; so can a broker in trouble.
        // The queue depth tells the two apart.
        uint depth;
        try
        {
            depth = await link.QueueDepthAsync(topology.SpoolQueue).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
            or IOException or OperationCanceledException)
        {
            throw new SpoolUnavailableException("the broker refused the message", nack);
        }

        if (depth >= (uint)topology.MaxLength)
        {
            throw new SpoolFullException(
                $"the spool holds {depth} messages, its limit is {topology.MaxLength}");
        }

        throw new SpoolUnavailableException("the broker refused the message", nack);
    }

    private async Task<BrokerLink> ConnectAsync(CancellationToken cancellationToken)
    {
        var link = _link;
        if (link is { IsOpen: true })
        {
            return link;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            link = _link;
            if (link is { IsOpen: true })
            {
                return link;
            }

            if (time.GetTimestamp() < Volatile.Read(ref _nextAttemptTimestamp))
            {
                throw new SpoolUnavailableException("the broker is unreachable");
            }

            if (link is not null)
            {
                _link = null;
                await link.DisposeAsync().ConfigureAwait(false);
            }

            try
            {
                _link = await BrokerLink.OpenAsync(_options, topology, logger, cancellationToken)
                    .ConfigureAwait(false);
                LogConnected(logger, _options.Uri.Host, _options.Uri.Port);
                return _link;
            }
            catch (Exception e) when (e is not OperationCanceledException
                || !cancellationToken.IsCancellationRequested)
            {
                var retryAfter = (long)(_options.ReconnectDelay.TotalSeconds * time.TimestampFrequency);
                Volatile.Write(ref _nextAttemptTimestamp, time.GetTimestamp() + retryAfter);
                LogConnectFailed(logger, _options.Uri.Host, _options.Uri.Port, e.Message);
                throw new SpoolUnavailableException("the broker is unreachable: " + e.Message, e);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_link is not null)
            {
                await _link.DisposeAsync().ConfigureAwait(false);
                _link = null;
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "Connected to the broker at {Host}:{Port}")]
    private static partial void LogConnected(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning,
        Message = "Cannot connect to the broker at {Host}:{Port}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning,
        Message = "The broker connection closed: {Reason}")]
    private static partial void LogConnectionClosed(ILogger logger, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning,
        Message = "The broker is blocked and refuses publishes: {Reason}")]
    private static partial void LogBlocked(ILogger logger, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "The broker is unblocked")]
    private static partial void LogUnblocked(ILogger logger);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning,
        Message = "Queue {Queue} exists with other arguments than configured; it is used as it is")]
    private static partial void LogQueueMismatch(ILogger logger, string queue);

    /// <summary>One broker connection and its publishing channels.</summary>
    private sealed class BrokerLink : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly Channel<IChannel?> _pool;
        private volatile string? _blockedReason;
        private volatile bool _closed;

        private BrokerLink(IConnection connection, int channels)
        {
            _connection = connection;
            _pool = Channel.CreateBounded<IChannel?>(channels);
            for (var i = 0; i < channels; i++)
            {
                _pool.Writer.TryWrite(null);
            }
        }

        public bool IsOpen => !_closed && _connection.IsOpen;

        /// <summary>Makes the next publish open a new link (and declare the topology again).</summary>
        public void MarkStale() => _closed = true;

        public string? BlockedReason => _blockedReason;

        public static async Task<BrokerLink> OpenAsync(
            RabbitMqOptions options,
            SpoolTopology topology,
            ILogger logger,
            CancellationToken cancellationToken)
        {
            var factory = new ConnectionFactory
            {
                Uri = options.Uri,
                RequestedConnectionTimeout = options.ConnectTimeout,
                // Recovery is done here, by opening a new link: the client's own recovery would
                // replay channels whose unconfirmed publishes nobody waits for any more.
                AutomaticRecoveryEnabled = false,
                TopologyRecoveryEnabled = false,
                ClientProvidedName = "mailmesh:" + AppDomain.CurrentDomain.FriendlyName,
            };

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout * 2);
            var connection = await factory.CreateConnectionAsync(timeout.Token).ConfigureAwait(false);
            var link = new BrokerLink(connection, options.PublishChannels);
            connection.ConnectionShutdownAsync += (_, args) =>
            {
                link._closed = true;
                LogConnectionClosed(logger, args.ReplyText);
                return Task.CompletedTask;
            };
            connection.ConnectionBlockedAsync += (_, args) =>
            {
                link._blockedReason = args.Reason;
                LogBlocked(logger, args.Reason);
                return Task.CompletedTask;
            };
            connection.ConnectionUnblockedAsync += (_, _) =>
            {
                link._blockedReason = null;
                LogUnblocked(logger);
                return Task.CompletedTask;
            };

            try
            {
                foreach (var queue in await topology.DeclareAsync(connection, timeout.Token)
                    .ConfigureAwait(false))
                {
                    LogQueueMismatch(logger, queue);
                }
            }
            catch
            {
                await link.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return link;
        }

        public async Task<IChannel> LeaseAsync(CancellationToken cancellationToken)
        {
            var channel = await _pool.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (channel is { IsOpen: true })
            {
                return channel;
            }

            try
            {
                if (channel is not null)
                {
                    await channel.DisposeAsync().ConfigureAwait(false);
                }

                return await _connection.CreateChannelAsync(
                    new CreateChannelOptions(
                        publisherConfirmationsEnabled: true,
                        publisherConfirmationTrackingEnabled: true),
                    cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _pool.Writer.TryWrite(null);
                throw;
            }
        }

        /// <summary>
        /// Gives a leased channel back. A channel whose publish was abandoned may still await a
        /// confirm; it is closed rather than reused, and its slot opens a new one when needed.
        /// </summary>
        public async Task ReturnAsync(IChannel? channel, bool reusable)
        {
            if (channel is null)
            {
                return;
            }

            if (reusable && channel.IsOpen)
            {
                _pool.Writer.TryWrite(channel);
                return;
            }

            _pool.Writer.TryWrite(null);
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

        public async Task<uint> QueueDepthAsync(string queue)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var channel = await _connection.CreateChannelAsync(cancellationToken: timeout.Token)
                .ConfigureAwait(false);
            await using (channel.ConfigureAwait(false))
            {
                var ok = await channel.QueueDeclarePassiveAsync(queue, timeout.Token).ConfigureAwait(false);
                return ok.MessageCount;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _closed = true;
            try
            {
                await _connection.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException
                or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // Closing a dead connection fails; it is disposed below all the same.
            }

            _connection.Dispose();
        }
    }
}
