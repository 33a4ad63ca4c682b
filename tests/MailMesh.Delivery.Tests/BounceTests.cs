using System.Text;
using MailMesh.Delivery.Tests.Support;
using MimeKit;

namespace MailMesh.Delivery.Tests;

public sealed class BounceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RecipientRefused5xx_RetFull_BounceWithWholeMessageLandsInSendersMaildir()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");
        var sent = TestMessages.Plain("alice@sender.test", "gone@example.net", "bounce me");

        var queued = await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test",
            "RET=FULL ENVID=QQ+2Bid-1", [("gone@example.net", "NOTIFY=FAILURE ORCPT=rfc822;Gone+2Bx@example.net")],
            sent);

        var file = Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait));
        var notice = Notice.Load(file);
        Assert.Equal("delivery-status", notice.Report.ReportType);
        Assert.Equal("<>", notice.Message.Headers["Return-Path"]);
        Assert.Equal("MAILER-DAEMON@" + MailFlow.Hostname, Assert.IsType<MailboxAddress>(
            Assert.Single(notice.Message.From)).Address);
        Assert.Equal("alice@sender.test", Assert.IsType<MailboxAddress>(Assert.Single(notice.Message.To)).Address);
        Assert.Equal("Undelivered Mail Returned to Sender", notice.Message.Subject);
        Assert.Equal("auto-replied", notice.Message.Headers["Auto-Submitted"]);
        Assert.False(string.IsNullOrEmpty(notice.Message.MessageId));

        Assert.Equal("dns; " + MailFlow.Hostname, notice.PerMessage["Reporting-MTA"]);
        Assert.Equal("QQ+2Bid-1", notice.PerMessage["Original-Envelope-Id"]);
        Assert.NotNull(notice.PerMessage["Arrival-Date"]);
        var fields = notice.For("gone@example.net");
        Assert.Equal("failed", fields["Action"]);
        Assert.Equal("5.3.0", fields["Status"]);
        Assert.Equal("rfc822;Gone+2Bx@example.net", fields["Original-Recipient"]);
        Assert.Equal("dns; 127.0.0.1", fields["Remote-MTA"]);
        Assert.StartsWith("smtp; 500 5.3.0", fields["Diagnostic-Code"] ?? "", StringComparison.Ordinal);
        Assert.NotNull(fields["Last-Attempt-Date"]);
        Assert.Contains("<gone@example.net>: 500 5.3.0", notice.Explanation, StringComparison.Ordinal);

        var returned = Assert.IsType<MessagePart>(notice.Returned);
        Assert.Equal("message/rfc822", returned.ContentType.MimeType);
        var message = Assert.IsType<MimeMessage>(returned.Message);
        Assert.Equal("bounce me", message.Subject);
        using (var original = new MemoryStream())
        {
            var format = FormatOptions.Default.Clone();
            format.NewLineFormat = NewLineFormat.Dos;
            message.WriteTo(format, original);
            Assert.True(TestMessages.IsSentWithReceived(original.ToArray(), sent),
                "the returned message is not the one sent:\n" + Encoding.UTF8.GetString(original.ToArray()));
        }

        var queueId = queued[(queued.LastIndexOf(' ') + 1)..];
        await flow.DeliveryLog.WaitForAsync(660, Wait, queueId, "<alice@sender.test>", "<gone@example.net>");
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
    }

    [Fact]
    public async Task RetHdrs_BounceReturnsTheHeaderSectionOnly()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "RET=HDRS",
            [("gone@example.net", "")], TestMessages.Plain("alice@sender.test", "gone@example.net", "headers only"));

        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        Assert.Null(notice.PerMessage["Original-Envelope-Id"]);
        Assert.Null(notice.For("gone@example.net")["Original-Recipient"]);
        var returned = Assert.IsType<TextRfc822Headers>(notice.Returned);
        Assert.Equal("text/rfc822-headers", returned.ContentType.MimeType);
        Assert.Equal("headers only", returned.Message?.Subject);
        Assert.NotNull(returned.Message?.Headers["Received"]);
        using var content = new MemoryStream();
        returned.WriteTo(content);
        var headers = Encoding.ASCII.GetString(content.ToArray());
        Assert.Contains("Subject: headers only", headers, StringComparison.Ordinal);
        Assert.DoesNotContain("Hello.", headers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotifyNeverOnOneRecipient_OneBounceCoversOnlyTheOther()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "",
            [("quiet@example.net", "NOTIFY=NEVER"), ("success-only@example.net", "NOTIFY=SUCCESS"),
                ("loud@example.net", "NOTIFY=SUCCESS,FAILURE")],
            TestMessages.Plain("alice@sender.test", "loud@example.net", "two refused"));

        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        var fields = Assert.Single(notice.PerRecipient);
        Assert.Equal("rfc822; loud@example.net", fields["Final-Recipient"]);
        Assert.Equal("failed", fields["Action"]);
        Assert.DoesNotContain("quiet@", notice.Explanation, StringComparison.Ordinal);
        await flow.DeliveryLog.WaitForAsync(522, Wait, "<quiet@example.net>");
        await flow.DeliveryLog.WaitForAsync(522, Wait, "<success-only@example.net>");
    }

    [Fact]
    public async Task NotifyNeverOnEveryRecipient_NoBounce()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "",
            [("quiet@example.net", "NOTIFY=NEVER")],
            TestMessages.Plain("alice@sender.test", "quiet@example.net", "silent"));
        await flow.DeliveryLog.WaitForAsync(522, Wait, "<quiet@example.net>");
        // A second message that is bounced: once its bounce is in, the first one's would be too.
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["control@example.net"],
            TestMessages.Plain("alice@sender.test", "control@example.net", "control"));

        var file = Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait));
        Assert.Equal("rfc822; control@example.net", Assert.Single(Notice.Load(file).PerRecipient)["Final-Recipient"]);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 2, TimeSpan.FromSeconds(1)));
        Assert.Single(flow.DeliveryLog.Lines, line => line.Id.Id == 660);
    }

    [Fact]
    public async Task NullReversePath_NoBounce()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "", "", [("gone@example.net", "")],
            TestMessages.Plain("MAILER-DAEMON@elsewhere.test", "gone@example.net", "a bounce itself"));

        await flow.DeliveryLog.WaitForAsync(662, Wait, "reverse path is null");
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Empty(Directory.GetFileSystemEntries(flow.Mailboxes));
        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 660);
    }

    [Fact]
    public async Task SenderWhoseOwnDomainRefuses_BounceFailsToo_AndIsNotBouncedAgain()
    {
        // The sender's domain is routed to the refusing server as well: the bounce fails there,
        // and as a message from the null reverse path it ends.
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.net", ["gone@example.net"],
            TestMessages.Plain("alice@example.net", "gone@example.net", "loop?"));

        await flow.DeliveryLog.WaitForAsync(522, Wait, "<alice@example.net>");
        await flow.DeliveryLog.WaitForAsync(662, Wait);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(0u, await queues.CountAsync(queues.Spool));
        Assert.Single(flow.DeliveryLog.Lines, line => line.Id.Id == 660);
        Assert.Equal(2, flow.DeliveryLog.Lines.Count(line => line.Id.Id == 522));
    }
}
