using System.Text;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

public sealed class RetryLadderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SmarthostDeferringTwiceThenAccepting_DeliveredOnceOnThirdAttempt()
    {
        // A real smtp-sink soft-rejects every RCPT; after the second attempt it is started again
        // on the same port, accepting. The second wait leaves it ample time to come back.
        await using var sink = await SmtpSink.StartAsync("-r", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:00:01";
            settings["MailMesh:Delivery:RetrySchedule:1"] = "00:00:05";
        });
        var sent = TestMessages.Plain("alice@example.org", "bob@example.net", "third time lucky");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"], sent);
        await flow.DeliveryLog.WaitForAsync(521, Wait, "<bob@example.net>", "attempt 1, next in 1s", "450 ");
        await flow.DeliveryLog.WaitForAsync(521, Wait, "<bob@example.net>", "attempt 2, next in 5s", "450 ");
        await sink.RestartAsync();

        await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@example.net>", "attempt 3:");
        var dump = Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
        Assert.Equal(SinkDump.AsStored(sent), dump.Message[^SinkDump.AsStored(sent).Length..]);
        Assert.Equal(["<bob@example.net>"], dump.RcptArgs);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
        var attempts = flow.DeliveryLog.Lines.Where(line => line.Id.Id is 520 or 521 or 522 or 630).ToList();
        Assert.Equal(3, attempts.Count);
        Assert.Single(await sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task SmarthostAlwaysDeferring_PastQueueLifetime_ExpiresAndLeavesNothing()
    {
        await using var sink = await SmtpSink.StartAsync("-r", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:00:01";
            settings["MailMesh:Delivery:MaxQueueLifetime"] = "00:00:04";
        });

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["never@example.net"],
            TestMessages.Plain("alice@sender.test", "never@example.net", "too late"));

        var expired = await flow.DeliveryLog.WaitForAsync(630, Wait, "<never@example.net>");
        Assert.Contains("451 4.4.7 message expired after ", expired, StringComparison.Ordinal);
        Assert.Contains(": 450 4.3.0", expired, StringComparison.Ordinal);
        // Only this recipient's, not the bounce's on its way to the sender.
        bool IsDeferral((Microsoft.Extensions.Logging.EventId Id, string Text) line) =>
            line.Id.Id == 521 && line.Text.Contains("<never@example.net>", StringComparison.Ordinal);
        var deferrals = flow.DeliveryLog.Lines.Count(IsDeferral);
        Assert.True(deferrals >= 1, "the recipient expired without being deferred first");
        Assert.Contains($"after {deferrals + 1} attempts", expired, StringComparison.Ordinal);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
        // Expired means never tried again: no further attempt comes after a full wait.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(deferrals, flow.DeliveryLog.Lines.Count(IsDeferral));
        Assert.Single(flow.DeliveryLog.Lines, line => line.Id.Id == 630);
        Assert.Empty(await sink.WaitForMessagesAsync(0, TimeSpan.Zero));
        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        Assert.Equal("failed", notice.For("never@example.net")["Action"]);
        Assert.Equal("4.4.7", notice.For("never@example.net")["Status"]);
    }

    [Fact]
    public async Task SmarthostStallingPastTransactionTimeout_RecipientDeferredNamingTheStage()
    {
        // smtp-sink holds back its reply to the data for longer than a transaction may take,
        // though well inside the timeout of a single read.
        await using var sink = await SmtpSink.StartAsync("-w", "30");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
            settings["MailMesh:Delivery:TransactionTimeout"] = "00:00:02";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:10:00";
        });

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["slow@example.net"],
            TestMessages.Plain("alice@example.org", "slow@example.net", "stalled"));

        var line = await flow.DeliveryLog.WaitForAsync(521, Wait, "<slow@example.net>", "attempt 1, next in 10m");
        Assert.Contains("451 4.4.1 send to smtp://127.0.0.1:", line, StringComparison.Ordinal);
        Assert.Contains("the transaction took longer than 2 s", line, StringComparison.Ordinal);
        await using var queues = flow.Queues();
        Assert.Equal(1u, await queues.WaitForCountAsync(queues.WaitQueue(TimeSpan.FromMinutes(10)), 1, Wait));
    }

    [Fact]
    public async Task SmarthostStallingPastAttemptTimeout_RecipientDeferredIntoWaitQueue()
    {
        // smtp-sink holds back its reply to DATA longer than the whole attempt may take.
        await using var sink = await SmtpSink.StartAsync("-w", "30");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
            settings["MailMesh:Delivery:AttemptTimeout"] = "00:00:02";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:10:00";
        });
        var sent = TestMessages.Plain("alice@example.org", "slow@example.net", "stalled");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["slow@example.net"], sent);

        var line = await flow.DeliveryLog.WaitForAsync(521, Wait,
            "<slow@example.net>", "attempt 1, next in 10m");
        Assert.Contains("451 4.4.2 delivery attempt not finished within 2s", line, StringComparison.Ordinal);
        await using var queues = flow.Queues();
        var waiting = await queues.TakeAsync(queues.WaitQueue(TimeSpan.FromMinutes(10)), Wait);
        Assert.NotNull(waiting);
        Assert.Equal(1, waiting.Envelope.Attempt);
        Assert.True(TestMessages.IsSentWithReceived(waiting.Body, sent));
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        var reason = (byte[])waiting.Properties.Headers![Spool.SpoolConsumer.DeferredReason]!;
        Assert.Equal("451 4.4.2 delivery attempt not finished within 2s", Encoding.UTF8.GetString(reason));
    }
}
