using System.Diagnostics;
using System.Globalization;
using System.Net;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

/// <summary>What an operator's probes and Prometheus see on a delivery worker's HTTP port.</summary>
public sealed class DeliveryObservabilityTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Metrics_CountOutcomesByRouteAndQueueDepths_AndPassPromtool()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Http:Port"] = "0";
            settings["MailMesh:Delivery:QueueDepthInterval"] = "00:00:01";
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
        });
        var http = Assert.IsType<Uri>(flow.DeliveryHttp);

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["bob@local.test"],
            TestMessages.Plain("alice@sender.test", "bob@local.test", "kept"));
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@sender.test", ["gone@example.net"],
            TestMessages.Plain("alice@sender.test", "gone@example.net", "refused"));
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@local.test>");
        await flow.DeliveryLog.WaitForAsync(522, Wait, "<gone@example.net>");

        var metrics = await WaitForMetricAsync(http, "mailmesh_spool_messages{");
        var mailbox = "file://" + flow.Mailboxes;
        Assert.True(Sample(metrics, "mailmesh_delivery_outcomes_total",
            "mailmesh_outcome=\"delivered\"", $"mailmesh_route=\"{mailbox}\"") >= 1, metrics);
        Assert.Equal(1, Sample(metrics, "mailmesh_delivery_outcomes_total",
            "mailmesh_outcome=\"failed\"", $"mailmesh_route=\"smtp://127.0.0.1:{sink.Port}\""));
        Assert.True(Sample(metrics, "mailmesh_delivery_latency_seconds_count", "mailmesh_outcome=\"failed\"") >= 1);
        Assert.True(Sample(metrics, "mailmesh_delivery_attempts_total") >= 2, metrics);
        Assert.True(Sample(metrics, "mailmesh_delivery_attempt_duration_seconds_count") >= 2, metrics);
        foreach (var queue in (string[])["spool", "poison", "wait.5m", "wait.4h"])
        {
            var label = $"messaging_destination_name=\"{flow.QueuePrefix}.{queue}\"";
            Assert.Contains(metrics.Split('\n'), line =>
                line.StartsWith("mailmesh_spool_messages{", StringComparison.Ordinal)
                && line.Contains(label, StringComparison.Ordinal));
        }

        Assert.True(Sample(metrics, "mailmesh_spool_confirm_duration_seconds_count") >= 1, metrics);
        Assert.True(Sample(metrics, "mailmesh_delivery_connection_uses_total", "mailmesh_connection_reused=\"false\"")
            >= 1, metrics);
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("mailmesh_delivery_connections{",
            StringComparison.Ordinal));

        var (exit, output) = await PromtoolAsync(metrics);
        Assert.True(exit == 0, "promtool check metrics: " + output);
    }

    [Fact]
    public async Task LiveAndReady_WhileConsumingTheSpool()
    {
        await using var flow = await MailFlow.StartAsync(settings => settings["MailMesh:Http:Port"] = "0");
        var http = Assert.IsType<Uri>(flow.DeliveryHttp);

        using var live = await Http.GetAsync(new Uri(http, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(http, HttpStatusCode.OK));
    }

    [Fact]
    public async Task Stopping_ReadinessDropsWhileTheDeliveryInFlightFinishes()
    {
        // smtp-sink holds back its reply to the data, so the stop finds a delivery in flight.
        await using var sink = await SmtpSink.StartAsync("-w", "4");
        await using var flow = await MailFlow.StartAsync(settings =>
        {
            settings["MailMesh:Http:Port"] = "0";
            settings["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}";
        });
        var http = Assert.IsType<Uri>(flow.DeliveryHttp);
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(http, HttpStatusCode.OK));
        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"],
            TestMessages.Plain("alice@example.org", "bob@example.net", "drain"));
        var clock = Stopwatch.StartNew();
        while (sink.DumpCount == 0 && clock.Elapsed < Wait)
        {
            await Task.Delay(50);
        }

        var stopping = flow.StopDeliveryAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable,
            await WaitForReadyAsync(http, HttpStatusCode.ServiceUnavailable));
        Assert.False(stopping.IsCompleted, "the worker stopped before readiness was seen to drop");
        await stopping;
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<bob@example.net>");
    }

    private static async Task<HttpStatusCode> WaitForReadyAsync(Uri http, HttpStatusCode wanted)
    {
        var status = HttpStatusCode.NoContent;
        for (var i = 0; i < 100 && status != wanted; i++)
        {
            using var response = await Http.GetAsync(new Uri(http, "/health/ready"));
            status = response.StatusCode;
            if (status != wanted)
            {
                await Task.Delay(100);
            }
        }

        return status;
    }

    private static async Task<string> WaitForMetricAsync(Uri http, string fragment)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await Http.GetStringAsync(new Uri(http, "/metrics"));
            if (metrics.Contains(fragment, StringComparison.Ordinal) || clock.Elapsed > Wait)
            {
                return metrics;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The sum of the samples of a metric whose labels include every one given.</summary>
    private static double Sample(string metrics, string name, params string[] labels) => metrics.Split('\n')
        .Where(line => (line.StartsWith(name + " ", StringComparison.Ordinal)
                || line.StartsWith(name + "{", StringComparison.Ordinal))
            && labels.All(label => line.Contains(label, StringComparison.Ordinal)))
        .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static async Task<(int Exit, string Output)> PromtoolAsync(string metrics)
    {
        var start = new ProcessStartInfo("promtool")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        await process.StandardInput.WriteAsync(metrics);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
