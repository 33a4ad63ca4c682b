using System.Globalization;
using MailMesh.Delivery.Tests.Support;
using MimeKit;

namespace MailMesh.Delivery.Tests;

/// <summary>
/// NOTIFY=SUCCESS (RFC 3461): the sender hears of a delivery where the DSN chain ends at
/// MailMesh, a Maildir or a server without DSN, and not where the next server was told instead.
/// </summary>
public sealed class SuccessNoticeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DeliveredToMaildir_NotifySuccess_DeliveredNoticeWithHeadersOnly()
    {
        await using var flow = await MailFlow.StartAsync();

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "RET=FULL ENVID=env-7",
            [("bob@local.test", "NOTIFY=SUCCESS"), ("carol@local.test", "")],
            TestMessages.Plain("alice@sender.test", "bob@local.test", "tell me"));

        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        Assert.Equal("Successful Mail Delivery Report", notice.Message.Subject);
        Assert.Equal("<>", notice.Message.Headers["Return-Path"]);
        var fields = Assert.Single(notice.PerRecipient);
        Assert.Equal("rfc822; bob@local.test", fields["Final-Recipient"]);
        Assert.Equal("delivered", fields["Action"]);
        Assert.Equal("2.0.0", fields["Status"]);
        Assert.Null(fields["Remote-MTA"]);
        Assert.Equal("env-7", notice.PerMessage["Original-Envelope-Id"]);
        // A success notice returns the header section only, whatever RET asked.
        Assert.IsType<TextRfc822Headers>(notice.Returned);
        await flow.DeliveryLog.WaitForAsync(663, Wait, "<alice@sender.test>", "<bob@local.test>");
        Assert.Single(await flow.WaitForMaildirAsync("local.test/bob", 1, Wait));
    }

    [Fact]
    public async Task RelayedToServerWithoutDsn_NotifySuccess_RelayedNotice()
    {
        var port = FreePort.Next();
        // ScriptedMx offers no DSN, so NOTIFY cannot travel on.
        await using var mx = ScriptedMx.Start("127.0.0.1", port);
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = "smtp://127.0.0.1:"
                + port.ToString(CultureInfo.InvariantCulture) + "?tls=none");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "",
            [("dave@example.net", "NOTIFY=SUCCESS,FAILURE")],
            TestMessages.Plain("alice@sender.test", "dave@example.net", "relayed"));

        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        var fields = notice.For("dave@example.net");
        Assert.Equal("relayed", fields["Action"]);
        Assert.Equal("2.0.0", fields["Status"]);
        Assert.Equal("dns; 127.0.0.1", fields["Remote-MTA"]);
        Assert.Equal(["dave@example.net"], Assert.Single(mx.Delivered));
    }

    [Fact]
    public async Task RelayedToServerWithDsn_NotifyPassedOn_NoNoticeFromMailMesh()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "alice@sender.test", "",
            [("erin@example.net", "NOTIFY=SUCCESS")],
            TestMessages.Plain("alice@sender.test", "erin@example.net", "passed on"));

        var dump = Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
        Assert.Contains("NOTIFY=SUCCESS", Assert.Single(dump.RcptArgs), StringComparison.Ordinal);
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<erin@example.net>");
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Empty(await flow.WaitForMaildirAsync("sender.test/alice", 1, TimeSpan.FromSeconds(2)));
        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 663);
    }

    [Fact]
    public async Task NullReversePath_NotifySuccess_NoNotice()
    {
        await using var flow = await MailFlow.StartAsync();

        await RawSmtp.SendWithParametersAsync(flow.SmtpPort, "", "", [("frank@local.test", "NOTIFY=SUCCESS")],
            TestMessages.Plain("", "frank@local.test", "from nobody"));

        Assert.Single(await flow.WaitForMaildirAsync("local.test/frank", 1, Wait));
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 663);
    }
}
