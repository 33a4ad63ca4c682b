using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

/// <summary>
/// Ingress to delivery worker to a smarthost on loopback: connections are reused per server, and
/// bounded per server and per worker, as a mail admin would check them from the server's side.
/// </summary>
public sealed class ConnectionReuseTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<MailFlow> StartFlowAsync(int port,
        Action<Dictionary<string, string?>>? configure = null, bool startDelivery = true) =>
        MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{port}";
            configure?.Invoke(settings);
        }, startDelivery);

    [Fact]
    public async Task SeveralMessagesToOneSmarthost_OneConnectionCarriesAll_EachArrivesByteForByte()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.1", port);
        await using var flow = await StartFlowAsync(port, settings =>
            settings["MailMesh:Delivery:ConnectionIdleTimeout"] = "00:01:00");
        var sent = new List<byte[]>();

        for (var i = 1; i <= 5; i++)
        {
            var message = TestMessages.Awkward("alice@example.org", $"r{i}@example.net");
            sent.Add(message);
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", [$"r{i}@example.net"], message,
                eightBit: true);
            await flow.DeliveryLog.WaitForAsync(520, Wait, $"<r{i}@example.net>", "attempt 1");
        }

        var transactions = mx.Transactions.ToList();
        Assert.Equal(1, mx.Connections);
        Assert.Equal(5, transactions.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal([$"r{i + 1}@example.net"], transactions[i].Recipients);
            Assert.True(TestMessages.IsSentWithReceived(transactions[i].Data, sent[i]),
                $"message {i + 1} is not the spooled one");
        }
    }

    [Fact]
    public async Task DestinationBoundOfOne_SeveralMessagesInFlight_OneConnectionAtATimeAndAllArrive()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.1", port, options: new ScriptedMxOptions
        {
            DataReplyDelay = TimeSpan.FromMilliseconds(100),
        });
        await using var flow = await StartFlowAsync(port, settings =>
        {
            settings["MailMesh:Delivery:Prefetch"] = "8";
            settings["MailMesh:Delivery:MaxConnectionsPerDestination"] = "1";
            // A new connection every second message: closing one and opening the next stays in bounds.
            settings["MailMesh:Delivery:ConnectionReuseLimit"] = "2";
        }, startDelivery: false);
        for (var i = 1; i <= 6; i++)
        {
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", [$"r{i}@example.net"],
                TestMessages.Plain("alice@example.org", $"r{i}@example.net", "in flight"));
        }

        await flow.StartDeliveryAsync();

        await mx.WaitUntilAsync(server => server.Transactions.Count == 6, Wait, "all six messages arrived");
        Assert.Equal(1, mx.Gauge.Most);
        Assert.Equal(3, mx.Connections);
        for (var i = 1; i <= 6; i++)
        {
            await flow.DeliveryLog.WaitForAsync(520, Wait, $"<r{i}@example.net>", "attempt 1");
        }

        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 521);
    }

    [Fact]
    public async Task WorkerBoundOfOne_TwoSmarthosts_NeverTwoConnectionsAtOnceAndAllArrive()
    {
        var port = FreePort.Next();
        var gauge = new SessionGauge();
        var shared = new ScriptedMxOptions { Gauge = gauge };
        await using var north = ScriptedMx.Start("127.0.0.81", port, options: shared);
        await using var south = ScriptedMx.Start("127.0.0.82", port, options: shared);
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:north.example"] = $"smtp://127.0.0.81:{port}";
            settings["MailMesh:Routes:south.example"] = $"smtp://127.0.0.82:{port}";
            settings["MailMesh:Delivery:Prefetch"] = "6";
            settings["MailMesh:Delivery:MaxConnections"] = "1";
        }, startDelivery: false);
        string[] recipients =
            ["a@north.example", "b@south.example", "c@north.example", "d@south.example", "e@north.example",
                "f@south.example"];
        foreach (var recipient in recipients)
        {
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", [recipient],
                TestMessages.Plain("alice@example.org", recipient, "two servers"));
        }

        await flow.StartDeliveryAsync();

        foreach (var recipient in recipients)
        {
            await flow.DeliveryLog.WaitForAsync(520, Wait, $"<{recipient}>", "attempt 1");
        }

        Assert.Equal(1, gauge.Most);
        Assert.Equal(3, north.Transactions.Count);
        Assert.Equal(3, south.Transactions.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PooledConnectionClosedByServerAtNextMail_MessageGoesOnANewConnectionFirstAttempt(
        bool pipelining)
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.1", port, options: new ScriptedMxOptions
        {
            DropSecondTransaction = true,
            Pipelining = pipelining,
        });
        await using var flow = await StartFlowAsync(port, settings =>
            settings["MailMesh:Delivery:ConnectionIdleTimeout"] = "00:01:00");

        for (var i = 1; i <= 3; i++)
        {
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", [$"r{i}@example.net"],
                TestMessages.Plain("alice@example.org", $"r{i}@example.net", "dropped"));
            await flow.DeliveryLog.WaitForAsync(520, Wait, $"<r{i}@example.net>", "attempt 1");
        }

        Assert.Equal([1, 2, 3], mx.Transactions.Select(transaction => transaction.Connection));
        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 521);
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.CountWaitingAsync());
    }

    [Fact]
    public async Task SmarthostRestarted_ItsPooledConnectionGone_NextMessageNotDeferred()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var flow = await StartFlowAsync(sink.Port, settings =>
            settings["MailMesh:Delivery:ConnectionIdleTimeout"] = "00:01:00");
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["before@example.net"],
            TestMessages.Plain("alice@example.org", "before@example.net", "before"));
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<before@example.net>");

        await sink.RestartAsync();
        var sent = TestMessages.Awkward("alice@example.org", "after@example.net");
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["after@example.net"], sent,
            eightBit: true);

        await flow.DeliveryLog.WaitForAsync(520, Wait, "<after@example.net>", "attempt 1");
        Assert.DoesNotContain(flow.DeliveryLog.Lines, line => line.Id.Id == 521);
        var dumps = await sink.WaitForMessagesAsync(2, Wait);
        var after = Assert.Single(dumps, dump => dump.RcptArgs.Contains("<after@example.net>"));
        Assert.Equal(SinkDump.AsStored(sent), after.Message[^SinkDump.AsStored(sent).Length..]);
    }

    [Fact]
    public async Task IdleConnection_PastIdleTimeout_ServerSeesQuit()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.1", port);
        await using var flow = await StartFlowAsync(port, settings =>
            settings["MailMesh:Delivery:ConnectionIdleTimeout"] = "00:00:01");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"],
            TestMessages.Plain("alice@example.org", "bob@example.net", "then idle"));

        await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@example.net>");
        await mx.WaitUntilAsync(server => server.Quits == 1 && server.Gauge.Current == 0, Wait,
            "the idle connection ended with QUIT");
        Assert.Single(mx.Transactions);
    }

    [Fact]
    public async Task WorkerStopping_IdleConnectionEndsWithQuit()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.1", port);
        await using var flow = await StartFlowAsync(port, settings =>
            settings["MailMesh:Delivery:ConnectionIdleTimeout"] = "00:01:00");
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"],
            TestMessages.Plain("alice@example.org", "bob@example.net", "then stop"));
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@example.net>");
        Assert.Equal(0, mx.Quits);

        await flow.StopDeliveryAsync();

        Assert.Equal(1, mx.Quits);
    }

    [Fact]
    public async Task RecipientRefused_ConnectionResetAndKeptForTheNextMessage()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.1", port);
        await using var flow = await StartFlowAsync(port, settings =>
            settings["MailMesh:Delivery:ConnectionIdleTimeout"] = "00:01:00");

        // The sender's own domain goes to a Maildir, where its bounce lands.
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["hard@example.net"],
            TestMessages.Plain("alice@sender.test", "hard@example.net", "refused"));
        await flow.DeliveryLog.WaitForAsync(522, Wait, "<hard@example.net>", "550 5.1.1");
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["ok@example.net"],
            TestMessages.Plain("alice@sender.test", "ok@example.net", "taken"));
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<ok@example.net>");

        Assert.Equal(1, mx.Connections);
        Assert.True(mx.Resets >= 1, "the refused transaction was not reset");
        var taken = Assert.Single(mx.Transactions);
        Assert.Equal(["ok@example.net"], taken.Recipients);
        Assert.Equal(1, taken.Connection);
    }
}
