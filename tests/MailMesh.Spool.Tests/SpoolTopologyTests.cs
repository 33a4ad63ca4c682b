using MailMesh.Spool;
using MailMesh.Testing;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

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

        await DeleteAsync(connection, first);
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
        await DeleteAsync(connection, topology);
    }

    [Theory]
    [InlineData("00:05:00", "5m")]
    [InlineData("01:20:00", "80m")]
    [InlineData("02:00:00", "2h")]
    [InlineData("04:00:00", "4h")]
    [InlineData("2.00:00:00", "2d")]
    [InlineData("00:00:30", "30s")]
    [InlineData("00:01:30", "90s")]
    [InlineData("00:00:01.500", "1500ms")]
    public void WaitQueue_IsNamedByItsDelayInTheLargestWholeUnit(string delay, string name)
    {
        var topology = new SpoolTopology(new SpoolOptions { QueuePrefix = "mailmesh" });

        Assert.Equal("mailmesh.wait." + name, topology.WaitQueue(TimeSpan.Parse(delay)));
    }

    [Fact]
    public async Task WaitQueues_HaveTheirDelayAsTtl_AndDeadLetterIntoTheSpoolAtLeastOnce()
    {
        var prefix = "wait-" + Guid.NewGuid().ToString("N")[..10];
        var factory = new ConnectionFactory { Uri = await TestBroker.SharedUriAsync() };
        await using var connection = await factory.CreateConnectionAsync();
        var topology = new SpoolTopology(new SpoolOptions { QueuePrefix = prefix },
            [TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(2)]);

        Assert.Equal([prefix + ".wait.2s", prefix + ".wait.1500ms"], topology.WaitQueues);
        Assert.Empty(await topology.DeclareAsync(connection, CancellationToken.None));

        // The broker accepts a declaration only when it matches the queue's arguments, so these
        // written-out arguments are the ones the queue has.
        var expected = new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-message-ttl"] = 1500,
            ["x-overflow"] = "reject-publish",
            ["x-delivery-limit"] = 1000,
            ["x-dead-letter-exchange"] = "",
            ["x-dead-letter-routing-key"] = prefix + ".spool",
            ["x-dead-letter-strategy"] = "at-least-once",
        };
        Assert.True(await RedeclareAsync(connection, prefix + ".wait.1500ms", expected));
        Assert.False(await RedeclareAsync(connection, prefix + ".wait.1500ms",
            new(expected) { ["x-dead-letter-strategy"] = "at-most-once" }));
        Assert.False(await RedeclareAsync(connection, prefix + ".wait.1500ms",
            new(expected) { ["x-message-ttl"] = 2000 }));

        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync("", prefix + ".wait.1500ms", mandatory: true,
            new BasicProperties { Persistent = true, MessageId = "waited" }, "waited"u8.ToArray());
        BasicGetResult? back = null;
        for (var i = 0; i < 600 && back is null; i++)
        {
            back = await channel.BasicGetAsync(topology.SpoolQueue, autoAck: true);
            await Task.Delay(back is null ? 50 : 0);
        }

        Assert.NotNull(back);
        Assert.Equal("waited", back.BasicProperties.MessageId);
        var death = Assert.IsType<Dictionary<string, object?>>(
            Assert.Single(Assert.IsType<List<object>>(back.BasicProperties.Headers!["x-death"])));
        Assert.Equal("expired", Encoding.UTF8.GetString((byte[])death["reason"]!));
        Assert.Equal(prefix + ".wait.1500ms", Encoding.UTF8.GetString((byte[])death["queue"]!));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(prefix + ".wait.1500ms")).MessageCount);
        await DeleteAsync(connection, topology);
    }

    [Fact]
    public async Task Declare_WithChangedSchedule_AddsWaitQueuesAndToleratesOneWithOtherArguments()
    {
        var prefix = "ladder-" + Guid.NewGuid().ToString("N")[..10];
        var factory = new ConnectionFactory { Uri = await TestBroker.SharedUriAsync() };
        await using var connection = await factory.CreateConnectionAsync();
        var options = new SpoolOptions { QueuePrefix = prefix };
        var before = new SpoolTopology(options, [TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)]);
        Assert.Empty(await before.DeclareAsync(connection, CancellationToken.None));
        // A queue made by hand, or by another version, under the name of a wait queue.
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(prefix + ".wait.1h", durable: true, exclusive: false,
                autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }

        var after = new SpoolTopology(options,
            [TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1)]);
        Assert.Equal([prefix + ".wait.1h"], await after.DeclareAsync(connection, CancellationToken.None));

        await using (var channel = await connection.CreateChannelAsync())
        {
            foreach (var queue in (string[])[.. before.WaitQueues, .. after.WaitQueues])
            {
                await channel.QueueDeclarePassiveAsync(queue);
            }
        }

        await DeleteAsync(connection, before);
        await DeleteAsync(connection, after);
    }

    private static async Task<bool> RedeclareAsync(
        IConnection connection,
        string queue,
        Dictionary<string, object?> arguments)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments);
            return true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            return false;
        }
    }

    private static async Task DeleteAsync(IConnection connection, SpoolTopology topology)
    {
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in (string[])[topology.SpoolQueue, topology.PoisonQueue, .. topology.WaitQueues])
        {
            await channel.QueueDeleteAsync(queue);
        }
    }
}
