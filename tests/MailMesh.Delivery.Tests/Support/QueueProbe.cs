using MailMesh.Spool;
using RabbitMQ.Client;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// Looks into the queues of one test's spool, straight on the broker: the spool, the poison queue
/// and the wait queues of <paramref name="retrySchedule"/>.
/// </summary>
internal sealed class QueueProbe(Uri broker, string prefix, IEnumerable<TimeSpan> retrySchedule)
    : IAsyncDisposable
{
    private readonly SpoolTopology _topology = new(new SpoolOptions { QueuePrefix = prefix }, retrySchedule);
    private IConnection? _connection;
    private IChannel? _channel;

    public string Spool => _topology.SpoolQueue;

    public string Poison => _topology.PoisonQueue;

    /// <summary>Every wait queue of the schedule.</summary>
    public IReadOnlyList<string> WaitQueues => _topology.WaitQueues;

    /// <summary>The wait queue of one delay.</summary>
    public string WaitQueue(TimeSpan delay) => _topology.WaitQueue(delay);

    /// <summary>Messages ready in all wait queues together.</summary>
    public async Task<uint> CountWaitingAsync()
    {
        var total = 0u;
        foreach (var queue in WaitQueues)
        {
            total += await CountAsync(queue);
        }

        return total;
    }

    public sealed record Taken(byte[] Body, IReadOnlyBasicProperties Properties)
    {
        public SpoolEnvelope Envelope => EnvelopeHeaders.Read(Properties.Headers);
    }

    public async Task<uint> CountAsync(string queue)
    {
        var channel = await ChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Waits until the queue holds <paramref name="count"/> messages (ready ones).</summary>
    public async Task<uint> WaitForCountAsync(string queue, uint count, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var current = await CountAsync(queue);
            if (current == count || clock.Elapsed > timeout)
            {
                return current;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Takes one message (acknowledged), waiting for it.</summary>
    public async Task<Taken?> TakeAsync(string queue, TimeSpan timeout)
    {
        var channel = await ChannelAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var result = await channel.BasicGetAsync(queue, autoAck: true);
            if (result is not null)
            {
                return new Taken(result.Body.ToArray(), result.BasicProperties);
            }

            if (clock.Elapsed > timeout)
            {
                return null;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Publishes straight into the spool queue, as no ingress ever would.</summary>
    public async Task PublishToSpoolAsync(byte[] body, IDictionary<string, object?> headers, string messageId)
    {
        var connection = await ConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await using (channel)
        {
            await channel.BasicPublishAsync("", Spool, mandatory: true,
                new BasicProperties { Persistent = true, MessageId = messageId, Headers = headers }, body);
        }
    }

    public async Task DeleteAllAsync()
    {
        try
        {
            var channel = await ChannelAsync();
            foreach (var queue in (string[])[Spool, Poison, .. WaitQueues])
            {
                await channel.QueueDeleteAsync(queue);
            }
        }
        catch (Exception)
        {
            // Nothing to clean when the broker is gone.
        }
    }

    private async Task<IConnection> ConnectionAsync() =>
        _connection ??= await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();

    private async Task<IChannel> ChannelAsync()
    {
        if (_channel is { IsOpen: true })
        {
            return _channel;
        }

        _channel = await (await ConnectionAsync()).CreateChannelAsync();
        return _channel;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.CloseAsync();
            _connection.Dispose();
        }
    }
}
