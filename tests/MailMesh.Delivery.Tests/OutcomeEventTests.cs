using MailMesh.Contracts;
using MailMesh.Delivery.Events;
using MailMesh.Delivery.Tests.Support;
using MailMesh.Spool;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MailMesh.Delivery.Tests;

public sealed class OutcomeEventTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DeliveredAndRefusedRecipients_DeliveredAndFailedEventsReachASubscriber()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");
        await using var listener = await EventListener.StartAsync(flow.Broker,
            typeof(RecipientDelivered), typeof(RecipientFailed));

        var delivered = QueueIdOf(await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@rcpt.test"],
            TestMessages.Plain("alice@sender.test", "bob@rcpt.test", "kept")));
        var refused = QueueIdOf(await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["gone@example.net"],
            TestMessages.Plain("alice@sender.test", "gone@example.net", "refused")));

        var ok = await listener.WaitForAsync<RecipientDelivered>(e => e.QueueId == delivered, Wait);
        Assert.Equal("bob@rcpt.test", ok.Recipient);
        Assert.Equal("file://" + flow.Mailboxes, ok.Route);
        Assert.Null(ok.RemoteHost);
        Assert.Equal("250 2.0.0 delivered to Maildir", ok.Reply);
        Assert.Equal(1, ok.Attempt);
        var failed = await listener.WaitForAsync<RecipientFailed>(e => e.QueueId == refused, Wait);
        Assert.Equal("gone@example.net", failed.Recipient);
        Assert.Equal($"smtp://127.0.0.1:{sink.Port}", failed.Route);
        Assert.Equal("127.0.0.1", failed.RemoteHost);
        Assert.StartsWith("500 5.3.0", failed.Reply, StringComparison.Ordinal);
        Assert.Equal(1, failed.Attempt);
        // The bounce of the refused message is delivered like any message, with its own event.
        await listener.WaitForAsync<RecipientDelivered>(e => e.Recipient == "alice@sender.test", Wait);
        Assert.DoesNotContain(listener.Received.OfType<RecipientFailed>(), e => e.QueueId == delivered);
    }

    [Fact]
    public async Task DeferredRecipient_DeferredEventBeforeTheCopyIsKept()
    {
        var closedPort = FreePort.Next();
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{closedPort}");
        await using var listener = await EventListener.StartAsync(flow.Broker, typeof(RecipientDeferred));

        var queueId = QueueIdOf(await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@example.net"],
            TestMessages.Plain("alice@sender.test", "bob@example.net", "later")));

        var deferred = await listener.WaitForAsync<RecipientDeferred>(e => e.QueueId == queueId, Wait);
        Assert.Equal("bob@example.net", deferred.Recipient);
        Assert.StartsWith("451 4.4.1 connect", deferred.Reply, StringComparison.Ordinal);
        await using var queues = flow.Queues();
        Assert.Equal(1u, await queues.WaitForCountAsync(queues.WaitQueue(flow.RetrySchedule[0]), 1, Wait));
    }

    [Fact]
    public async Task BrokerUnreachable_PublishFailsWithinTheTimeoutInsteadOfHanging()
    {
        var closedPort = FreePort.Next();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MailMesh:RabbitMq:Uri"] = $"amqp://guest:guest@127.0.0.1:{closedPort}/",
            ["MailMesh:RabbitMq:ConnectTimeout"] = "00:00:01",
            ["MailMesh:Events:PublishTimeout"] = "00:00:01",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddMailMeshSpoolConsumer();
        EventBusRegistration.AddOutcomeEvents(services, configuration);
        await using var provider = services.BuildServiceProvider();
        // Started as the host starts it: in the background, not waiting for the broker.
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        var events = provider.GetRequiredService<OutcomeEvents>();
        var envelope = new SpoolEnvelope("01TESTQUEUEID000", "alice@sender.test",
            [new SpoolRecipient("bob@example.net")], TimeProvider.System.GetUtcNow(), 0, "127.0.0.1",
            "client.test", "7BIT", 1, 1);
        var outcome = new RecordedOutcome(new RecipientOutcome(envelope.Recipients[0], OutcomeKind.Delivered,
            "250 ok", "smtp://127.0.0.1:25"), "smtp://127.0.0.1:25", "127.0.0.1");

        var publish = events.PublishAsync(envelope, [outcome], CancellationToken.None);

        var failure = await Record.ExceptionAsync(() => publish.WaitAsync(Wait));
        Assert.NotNull(failure);
        // A TimeoutException of WaitAsync itself, with the publish still running, means it hung.
        Assert.True(publish.IsCompleted, "the publish did not end: " + failure);
        foreach (var service in hosted)
        {
            await service.StopAsync(new CancellationTokenSource(Wait).Token);
        }
    }

    private static string QueueIdOf(string reply) => reply[(reply.LastIndexOf(' ') + 1)..];
}
