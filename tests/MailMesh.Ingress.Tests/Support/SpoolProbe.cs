using MailMesh.Spool;
using RabbitMQ.Client;

namespace MailMesh.Ingress.Tests.Support;

/// <summary>Reads what the ingress spooled, straight from the broker.</summary>
internal sealed class SpoolProbe(Uri broker, string queue) : IAsyncDisposable
{
    private IConnection? _connection;
    private IChannel? _channel;

    public sealed record Spooled(SpoolEnvelope Envelope, byte[] Body, IReadOnlyBasicProperties Properties);

    public async Task<uint> CountAsync()
    {
        var channel = await ChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Takes every spooled message (acknowledging it), waiting until at least <paramref name="expected"/> are there.</summary>
    public async Task<List<Spooled>> TakeAsync(int expected, TimeSpan? wait = null)
    {
        var channel = await ChannelAsync();
        var taken = new List<Spooled>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var limit = wait ?? TimeSpan.FromSeconds(10);
        while (true)
        {
            var result = await channel.BasicGetAsync(queue, autoAck: true);
            if (result is not null)
            {
                taken.Add(new Spooled(
                    EnvelopeHeaders.Read(result.BasicProperties.Headers),
                    result.Body.ToArray(),
                    result.BasicProperties));
                continue;
            }

            if (taken.Count >= expected || clock.Elapsed > limit)
            {
                return taken;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Deletes every queue the ingress declares: those of its topology, which has no wait queues
    /// (only delivery workers declare and defer into them).
    /// </summary>
    public async Task DeleteQueuesAsync(string prefix)
    {
        var topology = new SpoolTopology(new SpoolOptions { QueuePrefix = prefix });
        try
        {
            var channel = await ChannelAsync();
            foreach (var name in (string[])[topology.SpoolQueue, topology.PoisonQueue, .. topology.WaitQueues])
            {
                await channel.QueueDeleteAsync(name);
            }
        }
        catch (Exception)
        {
            // A test that stopped its broker leaves nothing to clean.
        }
    }

    private async Task<IChannel> ChannelAsync()
    {
        if (_channel is { IsOpen: true })
        {
            return _channel;
        }

        _connection ??= await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();
        _channel = await _connection.CreateChannelAsync();
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
