using System.Globalization;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

/// <summary>
/// Ingress to delivery to fake MX hosts on 127.0.0.x, found through a real DNS server: every
/// fake MX listens on the same port, the worker's MX port.
/// </summary>
public sealed class MxDeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<MailFlow> StartFlowAsync(DnsServer dns, int mxPort,
        Action<Dictionary<string, string?>>? configure = null) =>
        MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Dns:Servers:0"] = dns.Endpoint;
            settings["MailMesh:Dns:Timeout"] = "00:00:01";
            settings["MailMesh:Delivery:MxPort"] = mxPort.ToString(CultureInfo.InvariantCulture);
            settings["MailMesh:Delivery:ConnectTimeout"] = "00:00:02";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:10:00";
            configure?.Invoke(settings);
        });

    [Fact]
    public async Task PreferredMxDown_NextMxGetsTheMessageAsSpooled()
    {
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=pref.example,mx1.pref.example,10",
            "mx-host=pref.example,mx2.pref.example,20",
            "host-record=mx1.pref.example,127.0.0.11",
            "host-record=mx2.pref.example,127.0.0.12");
        await using var sink = await SmtpSink.StartOnAsync("127.0.0.12", port);
        await using var flow = await StartFlowAsync(dns, port);
        var sent = TestMessages.Awkward("alice@sender.test", "bob@pref.example");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@pref.example"], sent, eightBit: true);

        var line = await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@pref.example>");
        Assert.Contains("via mx2.pref.example,", line, StringComparison.Ordinal);
        var dump = Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
        Assert.Equal(SinkDump.AsStored(sent), dump.Message[^SinkDump.AsStored(sent).Length..]);
        Assert.Equal(["<bob@pref.example>"], dump.RcptArgs);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
    }

    [Fact]
    public async Task PreferredMxRefusesInGreeting_NextMxGetsTheMessage()
    {
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=busy.example,mx1.busy.example,10",
            "mx-host=busy.example,mx2.busy.example,20",
            "host-record=mx1.busy.example,127.0.0.41",
            "host-record=mx2.busy.example,127.0.0.42");
        await using var refusing = ScriptedMx.Start("127.0.0.41", port, "554 5.3.2 not accepting mail");
        await using var sink = await SmtpSink.StartOnAsync("127.0.0.42", port);
        await using var flow = await StartFlowAsync(dns, port);

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@busy.example"],
            TestMessages.Plain("alice@sender.test", "bob@busy.example", "second choice"));

        var line = await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@busy.example>");
        Assert.Contains("via mx2.busy.example,", line, StringComparison.Ordinal);
        Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
    }

    [Fact]
    public async Task MxOfferingStartTls_MessageGoesEncrypted_WhateverTheCertificate()
    {
        // The MX is a second MailMesh ingress: it offers STARTTLS with a self-signed certificate
        // and writes "with ESMTPS" into its Received header only for a session under TLS.
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=tls.example,mx.tls.example,10",
            "host-record=mx.tls.example,127.0.0.81");
        await using var flow = await StartFlowAsync(dns, port);
        var (remote, remotePrefix) = await flow.StartRemoteMtaAsync("127.0.0.81", port);
        try
        {
            var sent = TestMessages.Plain("alice@sender.test", "tina@tls.example", "over tls");
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["tina@tls.example"], sent);

            await flow.DeliveryLog.WaitForAsync(520, Wait, "<tina@tls.example>", "via mx.tls.example,");
            await using var queues = new QueueProbe(flow.Broker, remotePrefix, []);
            var spooled = await queues.TakeAsync(queues.Spool, Wait);
            Assert.NotNull(spooled);
            Assert.Equal(["tina@tls.example"], spooled.Envelope.Recipients.Select(recipient => recipient.Address));
            var received = FirstField(System.Text.Encoding.ASCII.GetString(spooled.Body));
            Assert.StartsWith("Received: from relay.mailmesh.test", received, StringComparison.Ordinal);
            Assert.Contains("with ESMTPS", received, StringComparison.Ordinal);
            await queues.DeleteAllAsync();
        }
        finally
        {
            await remote.StopAsync();
            remote.Dispose();
        }
    }

    // The first header field of a message, its folded lines included.
    private static string FirstField(string message)
    {
        var end = 0;
        do
        {
            end = message.IndexOf("\r\n", end, StringComparison.Ordinal) + 2;
        }
        while (message[end] is ' ' or '\t');

        return message[..end];
    }

    [Fact]
    public async Task PreferredMxNeverGreets_HandshakeTimeout_NextMxGetsTheMessage()
    {
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=mute.example,mx1.mute.example,10",
            "mx-host=mute.example,mx2.mute.example,20",
            "host-record=mx1.mute.example,127.0.0.91",
            "host-record=mx2.mute.example,127.0.0.92");
        // Takes the connection and never says a word.
        using var mute = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("127.0.0.91"), port);
        mute.Start();
        await using var sink = await SmtpSink.StartOnAsync("127.0.0.92", port);
        await using var flow = await StartFlowAsync(dns, port,
            settings => settings["MailMesh:Delivery:HandshakeTimeout"] = "00:00:01");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@mute.example"],
            TestMessages.Plain("alice@sender.test", "bob@mute.example", "patience"));

        var line = await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@mute.example>");
        Assert.Contains("via mx2.mute.example,", line, StringComparison.Ordinal);
        Assert.Single(await sink.WaitForMessagesAsync(1, Wait));
    }

    [Fact]
    public async Task NoMxRecord_DeliveredToTheDomainsAddress()
    {
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync("host-record=plain.example,127.0.0.13");
        await using var sink = await SmtpSink.StartOnAsync("127.0.0.13", port);
        await using var flow = await StartFlowAsync(dns, port);

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["carol@plain.example"],
            TestMessages.Plain("alice@sender.test", "carol@plain.example", "implicit mx"));

        await flow.DeliveryLog.WaitForAsync(520, Wait, "<carol@plain.example>", "via plain.example,");
        Assert.Equal(["<carol@plain.example>"], Assert.Single(await sink.WaitForMessagesAsync(1, Wait)).RcptArgs);
    }

    [Theory]
    [InlineData("nomail.example", "mx-host=nomail.example,.,0", "556 5.1.10", "5.1.10")]
    [InlineData("missing.example", "host-record=other.example,127.0.0.1", "550 5.1.2", "5.1.2")]
    public async Task NowhereToDeliver_FailedAndTheBounceReachesTheSender(
        string domain, string record, string reply, string status)
    {
        await using var dns = await DnsServer.StartAsync(record);
        await using var flow = await StartFlowAsync(dns, FreePort.Next());

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["dave@" + domain],
            TestMessages.Plain("alice@sender.test", "dave@" + domain, "nowhere"));

        await flow.DeliveryLog.WaitForAsync(522, Wait, $"<dave@{domain}>", reply);
        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        Assert.Equal("failed", notice.For("dave@" + domain)["Action"]);
        Assert.Equal(status, notice.For("dave@" + domain)["Status"]);
        Assert.Null(notice.For("dave@" + domain)["Remote-MTA"]);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
    }

    [Fact]
    public async Task DnsServerNotAnswering_RecipientDeferredIntoTheWaitQueue()
    {
        await using var dns = await DnsServer.StartAsync();
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            // Nothing listens there: every lookup fails, which is temporary.
            settings["MailMesh:Dns:Servers:0"] = "127.0.0.1:" + FreePort.Next();
            settings["MailMesh:Dns:Timeout"] = "00:00:00.500";
            settings["MailMesh:Dns:Retries"] = "0";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:10:00";
        });

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["erin@dark.example"],
            TestMessages.Plain("alice@sender.test", "erin@dark.example", "no dns"));

        await flow.DeliveryLog.WaitForAsync(521, Wait, "<erin@dark.example>", "451 4.4.3 MX lookup");
        await using var queues = flow.Queues();
        Assert.Equal(1u, await queues.WaitForCountAsync(queues.WaitQueue(TimeSpan.FromMinutes(10)), 1, Wait));
    }

    [Fact]
    public async Task MixedAnswer_DeliveredFailedAndDeferredEachGoTheirWay()
    {
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=mixed.example,mx.mixed.example,10",
            "host-record=mx.mixed.example,127.0.0.51");
        await using var mx = ScriptedMx.Start("127.0.0.51", port);
        await using var flow = await StartFlowAsync(dns, port);
        string[] recipients = ["ok@mixed.example", "soft@mixed.example", "hard@mixed.example"];

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", recipients,
            TestMessages.Plain("alice@sender.test", "ok@mixed.example", "three ways"));

        await flow.DeliveryLog.WaitForAsync(520, Wait, "<ok@mixed.example>", "via mx.mixed.example");
        await flow.DeliveryLog.WaitForAsync(522, Wait, "<hard@mixed.example>", "550 5.1.1");
        await flow.DeliveryLog.WaitForAsync(521, Wait, "<soft@mixed.example>", "450 4.2.1");
        Assert.Equal(["ok@mixed.example"], Assert.Single(mx.Delivered));
        var notice = Notice.Load(Assert.Single(await flow.WaitForMaildirAsync("sender.test/alice", 1, Wait)));
        Assert.Equal("failed", notice.For("hard@mixed.example")["Action"]);
        Assert.Equal("dns; mx.mixed.example", notice.For("hard@mixed.example")["Remote-MTA"]);
        await using var queues = flow.Queues();
        var waiting = await queues.TakeAsync(queues.WaitQueue(TimeSpan.FromMinutes(10)), Wait);
        Assert.NotNull(waiting);
        Assert.Equal(["soft@mixed.example"], waiting.Envelope.Recipients.Select(recipient => recipient.Address));
    }

    [Fact]
    public async Task MxRefusingConnections_BreakerOpens_LaterMessagesSkipItWithoutConnecting()
    {
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=dead.example,mx.dead.example,10",
            "host-record=mx.dead.example,127.0.0.61");
        await using var flow = await StartFlowAsync(dns, port, settings =>
        {
            settings["MailMesh:Delivery:CircuitBreakerFailures"] = "2";
            settings["MailMesh:Delivery:CircuitBreakerDuration"] = "00:05:00";
        });

        for (var i = 1; i <= 3; i++)
        {
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", [$"r{i}@dead.example"],
                TestMessages.Plain("alice@sender.test", $"r{i}@dead.example", "dead host"));
            await flow.DeliveryLog.WaitForAsync(521, Wait, $"<r{i}@dead.example>");
        }

        var lines = flow.DeliveryLog.Lines.Where(line => line.Id.Id == 521).Select(line => line.Text).ToList();
        Assert.Contains("connect to mx.dead.example[127.0.0.61]", Assert.Single(lines, line =>
            line.Contains("<r1@dead.example>", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("ConnectionRefused", Assert.Single(lines, line =>
            line.Contains("<r2@dead.example>", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("skipped: it failed to connect 2 times", Assert.Single(lines, line =>
            line.Contains("<r3@dead.example>", StringComparison.Ordinal)), StringComparison.Ordinal);
    }
}
