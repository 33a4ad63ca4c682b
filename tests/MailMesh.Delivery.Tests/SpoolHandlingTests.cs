using System.Diagnostics;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

public sealed class SpoolHandlingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task UnreadableSpoolMessage_GoesToPoisonOnceWithItsReason()
    {
        await using var flow = await MailFlow.StartAsync();
        await using var queues = flow.Queues();
        var headers = new Dictionary<string, object?> { ["mm-schema"] = 99, ["mm-queue-id"] = "BROKEN" };

        await queues.PublishToSpoolAsync("Subject: x\r\n\r\nbody\r\n"u8.ToArray(), headers, "BROKEN.1");

        var poisoned = await queues.TakeAsync(queues.Poison, Wait);
        Assert.NotNull(poisoned);
        Assert.Equal("BROKEN.1", poisoned.Properties.MessageId);
        var reason = Assert.IsType<byte[]>(poisoned.Properties.Headers![Spool.SpoolConsumer.PoisonReason]);
        Assert.Contains("schema 99", System.Text.Encoding.UTF8.GetString(reason), StringComparison.Ordinal);
        Assert.Equal("Subject: x\r\n\r\nbody\r\n"u8.ToArray(), poisoned.Body);
        Assert.Equal(0u, await queues.CountAsync(queues.Spool));
        await flow.DeliveryLog.WaitForAsync(503, Wait, "BROKEN.1", "schema 99");
        Assert.Single(flow.DeliveryLog.Lines, line => line.Id.Id == 503);
    }

    [Fact]
    public async Task Stop_WhileRelaying_FinishesTheDeliveryThenStops()
    {
        // smtp-sink waits before answering DATA, so the delivery is in flight when the stop comes.
        await using var sink = await SmtpSink.StartAsync("-w", "3");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");
        await flow.DeliveryLog.WaitForAsync(500, Wait);

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"],
            TestMessages.Plain("alice@example.org", "bob@example.net", "in flight"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        await flow.StopDeliveryAsync();

        Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.Zero));
        await flow.DeliveryLog.WaitForAsync(520, TimeSpan.Zero, "<bob@example.net>");
        await flow.DeliveryLog.WaitForAsync(506, TimeSpan.Zero, "1 deliveries");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.CountAsync(queues.Spool));
    }
}
