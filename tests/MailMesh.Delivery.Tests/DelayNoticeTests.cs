using MailMesh.Delivery.Tests.Support;
using MailMesh.Spool;

namespace MailMesh.Delivery.Tests;

public sealed class DelayNoticeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DeferredPastDelayWarningTime_OneDelayNotice_FlagOnDeferredCopy_NoneOnTheNextAttempt()
    {
        var closedPort = FreePort.Next();
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{closedPort}";
            settings["MailMesh:Delivery:DelayWarningTime"] = "00:00:01";
        }, startDelivery: false);
        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "ENVID=late-1",
            [("bob@example.net", "NOTIFY=DELAY"), ("carol@example.net", "NOTIFY=FAILURE")],
            TestMessages.Plain("alice@sender.test", "bob@example.net", "slow"));
        // The first attempt comes when the message is older than the warning time.
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        await flow.StartDeliveryAsync();

        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        Assert.Equal("Delayed Mail (still being retried)", notice.Message.Subject);
        Assert.Equal("late-1", notice.PerMessage["Original-Envelope-Id"]);
        var fields = Assert.Single(notice.PerRecipient);
        Assert.Equal("rfc822; bob@example.net", fields["Final-Recipient"]);
        Assert.Equal("delayed", fields["Action"]);
        Assert.Equal("4.4.1", fields["Status"]);
        Assert.StartsWith("smtp; 451 4.4.1 connect", fields["Diagnostic-Code"] ?? "", StringComparison.Ordinal);
        Assert.Equal("text/rfc822-headers", notice.Returned.ContentType.MimeType);

        await using var queues = flow.Queues();
        var copy = await queues.TakeAsync(queues.WaitQueue(flow.RetrySchedule[0]), Wait);
        Assert.NotNull(copy);
        Assert.True(copy.Envelope.DelayNotified);
        Assert.Equal(true, copy.Properties.Headers?[EnvelopeHeaders.DelayNotified]);
        Assert.Equal(["bob@example.net", "carol@example.net"], copy.Envelope.Recipients.Select(r => r.Address));

        // Shovelled back into the spool as an operator (or a retry) would: deferred again, no second notice.
        await queues.PublishToSpoolAsync(copy.Body, copy.Properties.Headers!, copy.Properties.MessageId!);
        var again = await queues.TakeAsync(queues.WaitQueue(flow.RetrySchedule[1]), Wait);
        Assert.NotNull(again);
        Assert.Equal(2, again.Envelope.Attempt);
        Assert.True(again.Envelope.DelayNotified);
        await flow.DeliveryLog.WaitForAsync(521, Wait, "<bob@example.net>", "attempt 2");
        await flow.DeliveryLog.WaitForAsync(521, Wait, "<carol@example.net>", "attempt 2");
        Assert.Single(flow.DeliveryLog.Lines, line => line.Id.Id == 661);
        Assert.Equal(4, flow.DeliveryLog.Lines.Count(line => line.Id.Id == 521));
        Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 2, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task DeferredBeforeDelayWarningTime_NoNotice()
    {
        var closedPort = FreePort.Next();
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{closedPort}");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "",
            [("bob@example.net", "NOTIFY=DELAY")], TestMessages.Plain("alice@sender.test", "bob@example.net", "new"));

        await using var queues = flow.Queues();
        var copy = await queues.TakeAsync(queues.WaitQueue(flow.RetrySchedule[0]), Wait);
        Assert.NotNull(copy);
        Assert.False(copy.Envelope.DelayNotified);
        Assert.False(copy.Properties.Headers?.ContainsKey(EnvelopeHeaders.DelayNotified));
        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 661);
        Assert.False(Directory.Exists(Path.Combine(flow.Mailboxes, "sender.test")));
    }
}
