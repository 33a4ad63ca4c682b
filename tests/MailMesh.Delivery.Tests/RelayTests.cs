using System.Text;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

public sealed class SmarthostRelayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AwkwardMessage_ThroughIngressToSmtpSink_ArrivesByteForByte()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:.example.net"] = $"smtp://127.0.0.1:{sink.Port}");
        var sent = TestMessages.Awkward("alice@example.org", "bob@sub.example.net");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@sub.example.net"], sent, eightBit: true);

        var dumps = await sink.WaitForMessagesAsync(1, Wait);
        var dump = Assert.Single(dumps);
        var spooled = Encoding.Latin1.GetBytes(
            Encoding.Latin1.GetString(dump.Message).Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.True(TestMessages.IsSentWithReceived(spooled, sent),
            "the relayed message is not the spooled one:\n" + Encoding.UTF8.GetString(dump.Message));
        Assert.Contains("<alice@example.org>", dump.MailArgs, StringComparison.Ordinal);
        Assert.Contains("BODY=8BITMIME", dump.MailArgs, StringComparison.Ordinal);
        Assert.Equal(["<bob@sub.example.net>"], dump.RcptArgs);
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@sub.example.net>", "250 ");
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
    }

    [Fact]
    public async Task EightBitMessage_ToServerWithout8BitMime_IsSentAs7BitMime()
    {
        await using var sink = await SmtpSink.StartAsync("-8");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}?tls=none");
        var sent = TestMessages.Awkward("alice@example.org", "bob@example.net");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"], sent, eightBit: true);

        var dump = Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
        Assert.DoesNotContain(dump.Message, b => b >= 0x80);
        Assert.DoesNotContain("BODY=8BITMIME", dump.MailArgs, StringComparison.Ordinal);
        using var parsed = MimeKit.MimeMessage.Load(new MemoryStream(dump.Message));
        Assert.Contains("Grüße aus Köln", parsed.TextBody, StringComparison.Ordinal);
        Assert.Equal("<awkward.1@mailmesh.test>", "<" + parsed.MessageId + ">");
    }

    [Fact]
    public async Task SmarthostRefusingRecipient5xx_RecipientFailedAndNothingKept()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        // The sender's own domain goes to a Maildir, where its bounce lands (rather than deferred to mx).
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["gone@example.net"],
            TestMessages.Plain("alice@sender.test", "gone@example.net", "refused"));

        var line = await flow.DeliveryLog.WaitForAsync(522, Wait, "<gone@example.net>");
        Assert.Contains(" 500 5.3.0", line, StringComparison.Ordinal);
        Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait));
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
        Assert.Empty(await sink.WaitForMessagesAsync(0, TimeSpan.Zero));
    }

    [Fact]
    public async Task SmarthostDeferringRecipient4xx_CopyWithThatRecipientWaitsInFirstWaitQueue()
    {
        await using var sink = await SmtpSink.StartAsync("-r", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");
        var sent = TestMessages.Plain("alice@example.org", "later@example.net", "deferred");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["later@example.net"], sent);

        await using var queues = flow.Queues();
        var deferred = await queues.TakeAsync(queues.WaitQueue(TimeSpan.FromMinutes(5)), Wait);
        Assert.NotNull(deferred);
        Assert.Equal(flow.QueuePrefix + ".wait.5m", queues.WaitQueue(TimeSpan.FromMinutes(5)));
        Assert.True(TestMessages.IsSentWithReceived(deferred.Body, sent));
        Assert.Equal(["later@example.net"], deferred.Envelope.Recipients.Select(r => r.Address));
        Assert.Equal(1, deferred.Envelope.Attempt);
        Assert.Equal("alice@example.org", deferred.Envelope.ReversePath);
        var reason = Assert.IsType<byte[]>(deferred.Properties.Headers![Spool.SpoolConsumer.DeferredReason]);
        Assert.StartsWith("450 4.3.0", Encoding.UTF8.GetString(reason), StringComparison.Ordinal);
        await flow.DeliveryLog.WaitForAsync(521, Wait,
            "<later@example.net>", "attempt 1, next in 5m", "450 4.3.0");
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
    }

    [Fact]
    public async Task SmarthostNotListening_RecipientDeferred()
    {
        var closedPort = FreePort.Next();
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{closedPort}");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"],
            TestMessages.Plain("alice@example.org", "bob@example.net", "nobody home"));

        var line = await flow.DeliveryLog.WaitForAsync(521, Wait, "<bob@example.net>");
        Assert.Contains("451 4.4.1 connect", line, StringComparison.Ordinal);
        await using var queues = flow.Queues();
        Assert.Equal(1u, await queues.WaitForCountAsync(queues.WaitQueue(TimeSpan.FromMinutes(5)), 1, Wait));
    }
}
