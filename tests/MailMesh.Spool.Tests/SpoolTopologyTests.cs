using MailMesh.Spool;
using MailMesh.Testing;
using RabbitMQ.Client;

namespace MailMesh.Spool.Tests;

public class SpoolTopologyTests
{
    [Fact]
    public async Task Declare_Twice_IsIdempotent_AndChangedArgumentsAreTolerated()
    {
        var prefix = "topo-" + Guid.NewGuid().ToString("N")[..10];
        var factory = new ConnectionFactory { Uri = await TestBroker.SharedUriAsync() };
        await using var connection = await factory.CreateConnectionAsync();

        var first = new SpoolTopology(new SpoolOptions { QueuePrefix = prefix });
        Assert.Empty(await first.DeclareAsync(connection, CancellationToken.None));
        Assert.Empty(await first.DeclareAsync(connection, CancellationToken.None));

        var changed = new SpoolTopology(new SpoolOptions { QueuePrefix = prefix, MaxLength = 5 });
        Assert.Equal([prefix + ".spool"], await changed.DeclareAsync(connection, CancellationToken.None));

        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(prefix + ".spool");
        await channel.QueueDeleteAsync(prefix + ".poison");
    }

    [Fact]
    public async Task PoisonMessage_PastDeliveryLimit_LandsInPoisonQueue()
    {
        var prefix = "poison-" + Guid.NewGuid().ToString("N")[..10];
        var factory = new ConnectionFactory { Uri = await TestBroker.SharedUriAsync() };
        await using var connection = await factory.CreateConnectionAsync();
        var topology = new SpoolTopology(new SpoolOptions { QueuePrefix = prefix, DeliveryLimit = 2 });
        await topology.DeclareAsync(connection, CancellationToken.None);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync("", topology.SpoolQueue, mandatory: true,
            new BasicProperties { Persistent = true }, "poison"u8.ToArray());

        // A worker that fails on the message every time gives it back each time.
        for (var i = 0; i < 10; i++)
        {
            var got = await channel.BasicGetAsync(topology.SpoolQueue, autoAck: false);
            if (got is null)
            {
                break;
            }

            await channel.BasicRejectAsync(got.DeliveryTag, requeue: true);
        }

        BasicGetResult? poisoned = null;
        for (var i = 0; i < 100 && poisoned is null; i++)
        {
            poisoned = await channel.BasicGetAsync(topology.PoisonQueue, autoAck: true);
            await Task.Delay(poisoned is null ? 50 : 0);
        }

        Assert.NotNull(poisoned);
        Assert.Equal("poison"u8.ToArray(), poisoned.Body.ToArray());
        Assert.Null(await channel.BasicGetAsync(topology.SpoolQueue, autoAck: true));
        await channel.QueueDeleteAsync(topology.SpoolQueue);
        await channel.QueueDeleteAsync(topology.PoisonQueue);
    }
}
