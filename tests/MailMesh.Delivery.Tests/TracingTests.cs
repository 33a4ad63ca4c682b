using System.Diagnostics;
using System.Globalization;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

/// <summary>
/// Ingress and delivery in one process, their spans caught by an in-memory exporter: what an
/// operator following one message in the trace UI would see.
/// </summary>
public sealed class TracingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MessageDeliveredToMx_OneTreeFromTheSmtpSessionToTheRemoteReply()
    {
        using var spans = new SpanRecorder();
        var port = FreePort.Next();
        await using var dns = await DnsServer.StartAsync(
            "mx-host=traced.example,mx.traced.example,10",
            "host-record=mx.traced.example,127.0.0.71");
        await using var sink = await SmtpSink.StartOnAsync("127.0.0.71", port);
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Dns:Servers:0"] = dns.Endpoint;
            settings["MailMesh:Delivery:MxPort"] = port.ToString(CultureInfo.InvariantCulture);
        });

        var reply = await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@traced.example"],
            TestMessages.Plain("alice@sender.test", "bob@traced.example", "secret subject"));
        var queueId = reply[(reply.LastIndexOf(' ') + 1)..];

        var trace = await spans.WaitForTraceAsync(queueId, all => all.Any(span => span.DisplayName == "deliver mx")
            && all.Any(span => span.DisplayName.StartsWith("process ", StringComparison.Ordinal)), Wait);
        var root = Assert.Single(trace, span => span.DisplayName == "smtp receive");
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal(ActivityKind.Server, root.Kind);
        var publish = Assert.Single(trace, span => span.DisplayName == $"send {flow.QueuePrefix}.spool");
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.Equal(root.SpanId, publish.ParentSpanId);
        var process = Assert.Single(trace, span => span.DisplayName == $"process {flow.QueuePrefix}.spool");
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal(publish.SpanId, process.ParentSpanId);
        Assert.Equal(queueId, process.GetTagItem("mailmesh.queue_id"));
        Assert.Equal(1, process.GetTagItem("mailmesh.attempt"));
        var deliver = Assert.Single(trace, span => span.DisplayName == "deliver mx");
        Assert.Equal(process.SpanId, deliver.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Unset, deliver.Status);

        var lookups = trace.Where(span => span.DisplayName.StartsWith("dns ", StringComparison.Ordinal)).ToList();
        Assert.Contains(lookups, span => span.DisplayName == "dns MX"
            && (string?)span.GetTagItem("dns.question.name") == "traced.example");
        Assert.Contains(lookups, span => span.DisplayName == "dns A"
            && (string?)span.GetTagItem("dns.question.name") == "mx.traced.example");
        Assert.All(lookups, span => Assert.Equal(deliver.SpanId, span.ParentSpanId));

        // MailKit's own client spans, under the delivery, name the MX host it talked to.
        var client = trace.Where(span => span.Source.Name.StartsWith("MailKit", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(client);
        Assert.All(client, span => Assert.True(IsUnder(span, deliver, trace), span.DisplayName));
        Assert.Contains(client, span => (string?)span.GetTagItem("server.address") == "mx.traced.example");

        // The outcome event is published from within the attempt, so it is in the trace too.
        var events = trace.Where(span => span.Source.Name == "MassTransit").ToList();
        Assert.NotEmpty(events);
        Assert.All(events, span => Assert.True(IsUnder(span, process, trace), span.DisplayName));

        // No span tells what the message says or whom else it is for.
        Assert.All(trace, span => Assert.All(span.TagObjects, tag =>
        {
            Assert.DoesNotContain("secret subject", tag.Value?.ToString() ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain("bob@traced.example", tag.Value?.ToString() ?? "", StringComparison.Ordinal);
        }));
    }

    [Fact]
    public async Task DeferredThenDelivered_LaterAttemptFollowsTheDeferralInTheSameTrace()
    {
        using var spans = new SpanRecorder();
        await using var sink = await SmtpSink.StartAsync("-r", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
            settings["MailMesh:Delivery:RetrySchedule:0"] = "00:00:02";
        });

        var reply = await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["later@example.net"],
            TestMessages.Plain("alice@sender.test", "later@example.net", "second attempt"));
        var queueId = reply[(reply.LastIndexOf(' ') + 1)..];
        await flow.DeliveryLog.WaitForAsync(521, Wait, "<later@example.net>", "attempt 1");
        await sink.RestartAsync();

        var spool = $"process {flow.QueuePrefix}.spool";
        var trace = await spans.WaitForTraceAsync(queueId,
            all => all.Count(span => span.DisplayName == spool) == 2, Wait);
        var attempts = trace.Where(span => span.DisplayName == spool)
            .OrderBy(span => span.GetTagItem("mailmesh.attempt")).ToList();
        var deferral = Assert.Single(trace, span => span.DisplayName == $"send {flow.QueuePrefix}.wait.2s");
        Assert.Equal(attempts[0].SpanId, deferral.ParentSpanId);
        Assert.Equal(deferral.SpanId, attempts[1].ParentSpanId);
        Assert.Equal(2, attempts[1].GetTagItem("mailmesh.attempt"));
        Assert.Contains(attempts[1].Links, link => link.Context.SpanId == deferral.SpanId);
        var deliveries = trace.Where(span => span.DisplayName.StartsWith("deliver smtp://", StringComparison.Ordinal))
            .OrderBy(span => span.StartTimeUtc).ToList();
        Assert.Equal(2, deliveries.Count);
        Assert.Equal(ActivityStatusCode.Error, deliveries[0].Status);
        Assert.Equal(ActivityStatusCode.Unset, deliveries[1].Status);
    }

    [Fact]
    public async Task Refused5xx_TheBounceAndItsDeliveryAreInTheOriginalsTrace()
    {
        using var spans = new SpanRecorder();
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}");

        var reply = await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["gone@example.net"],
            TestMessages.Plain("alice@sender.test", "gone@example.net", "bounced"));
        var queueId = reply[(reply.LastIndexOf(' ') + 1)..];

        var spool = $"process {flow.QueuePrefix}.spool";
        var trace = await spans.WaitForTraceAsync(queueId,
            all => all.Count(span => span.DisplayName == spool) == 2, Wait);
        var original = Assert.Single(trace, span => span.DisplayName == spool
            && (string?)span.GetTagItem("mailmesh.queue_id") == queueId);
        var notice = Assert.Single(trace, span => span.DisplayName == "notify failure");
        Assert.Equal(original.SpanId, notice.ParentSpanId);
        var spooled = Assert.Single(trace, span => span.DisplayName == $"send {flow.QueuePrefix}.spool"
            && span.ParentSpanId == notice.SpanId);
        var bounce = Assert.Single(trace, span => span.DisplayName == spool && span != original);
        Assert.Equal(spooled.SpanId, bounce.ParentSpanId);
        Assert.Equal(notice.GetTagItem("mailmesh.notice.queue_id"), bounce.GetTagItem("mailmesh.queue_id"));
        Assert.Contains(trace, span => span.DisplayName.StartsWith("deliver file://", StringComparison.Ordinal)
            && span.ParentSpanId == bounce.SpanId);
    }

    [Fact]
    public async Task TraceRecipientsOn_DeliverySpanNamesTheRecipients()
    {
        using var spans = new SpanRecorder();
        await using var flow = await MailFlow.StartAsync(settings =>
            settings["MailMesh:Delivery:TraceRecipients"] = "true");

        var reply = await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test",
            ["ann@named.test", "ben@named.test"], TestMessages.Plain("alice@sender.test", "ann@named.test", "named"));
        var queueId = reply[(reply.LastIndexOf(' ') + 1)..];

        static bool IsDelivery(Activity span) =>
            span.DisplayName.StartsWith("deliver file://", StringComparison.Ordinal);
        var trace = await spans.WaitForTraceAsync(queueId, all => all.Any(IsDelivery), Wait);
        var deliver = Assert.Single(trace, IsDelivery);
        Assert.Equal(["ann@named.test", "ben@named.test"],
            Assert.IsType<string[]>(deliver.GetTagItem("mailmesh.recipients")));
        Assert.Equal(2, deliver.GetTagItem("mailmesh.recipients.count"));
    }

    private static bool IsUnder(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        for (var parent = span.ParentSpanId; parent != default;)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }

            parent = trace.FirstOrDefault(candidate => candidate.SpanId == parent)?.ParentSpanId ?? default;
        }

        return false;
    }
}
