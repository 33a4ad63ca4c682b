using System.Net;
using MailMesh.Ingress.Tests.Support;
using MailMesh.Testing;

namespace MailMesh.Ingress.Tests;

/// <summary>
/// What an operator's probes and Prometheus see on the ingress's HTTP port: liveness, readiness
/// that follows the broker, and metrics that count what the SMTP clients saw.
/// </summary>
public class ObservabilityTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static Task<IngressServer> StartAsync(Uri? broker = null) =>
        IngressServer.StartAsync(settings => settings["MailMesh:Http:Port"] = "0", broker);

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(IngressServer server, string path)
    {
        using var response = await Http.GetAsync(new Uri(server.Http!, path));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpStatusCode> WaitForReadyAsync(IngressServer server, HttpStatusCode wanted)
    {
        var status = HttpStatusCode.NoContent;
        for (var i = 0; i < 100 && status != wanted; i++)
        {
            status = (await GetAsync(server, "/health/ready")).Status;
            if (status != wanted)
            {
                await Task.Delay(200);
            }
        }

        return status;
    }

    [Fact]
    public async Task NoPortConfigured_NoHttpEndpoint()
    {
        await using var server = await IngressServer.StartAsync();
        Assert.Null(server.Http);
    }

    [Fact]
    public async Task LiveAndReady_WhenConnectedToTheBroker()
    {
        await using var server = await StartAsync();

        var live = await GetAsync(server, "/health/live");
        Assert.Equal(HttpStatusCode.OK, live.Status);
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(server, HttpStatusCode.OK));
        Assert.Contains("broker: Healthy", (await GetAsync(server, "/health/ready")).Body);
    }

    [Fact]
    public async Task Metrics_CountAcceptedMessagesAndRefusals_AndPassPromtool()
    {
        await using var server = await StartAsync();
        await using (var wire = await SmtpWire.GreetedAsync(server.Endpoint))
        {
            await wire.CommandAsync("FROB", 500);
            await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
            await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
            await wire.CommandAsync("DATA", 354);
            await wire.SendAsync("Subject: counted\r\n\r\nbody\r\n.\r\n");
            Assert.Equal(250, (await wire.ReadAsync(TimeSpan.FromSeconds(30))).Code);
            await wire.CommandAsync("QUIT", 221);
        }

        var (status, metrics) = await GetAsync(server, "/metrics");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(Sample(metrics, "mailmesh_ingress_messages_total") >= 1, metrics);
        Assert.True(Sample(metrics, "mailmesh_ingress_bytes_total") > 0, metrics);
        Assert.True(Sample(metrics, "mailmesh_ingress_sessions_total") >= 1, metrics);
        Assert.Contains(metrics.Split('\n'), line =>
            line.StartsWith("mailmesh_ingress_refusals_total{", StringComparison.Ordinal)
            && line.Contains("smtp_reply_code=\"500\"", StringComparison.Ordinal)
            && line.Contains("smtp_reply_status=\"5.5.1\"", StringComparison.Ordinal));
        Assert.True(Sample(metrics, "mailmesh_spool_confirm_duration_seconds_count") >= 1, metrics);

        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, metrics);
            var (exit, output) = await Tool.RunAsync("bash", TimeSpan.FromSeconds(30),
                "-c", "promtool check metrics < \"$0\"", file);
            Assert.True(exit == 0, "promtool check metrics: " + output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Ready_FollowsTheBroker_DownAndBack()
    {
        await using var node = await RabbitNode.StartAsync("ready");
        await using var server = await StartAsync(node.AmqpUri);
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(server, HttpStatusCode.OK));

        await node.StopAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable,
            await WaitForReadyAsync(server, HttpStatusCode.ServiceUnavailable));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/health/live")).Status);

        await node.StartAgainAsync();
        // No message is sent: readiness alone brings the ingress back to the broker.
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(server, HttpStatusCode.OK));
    }

    /// <summary>The value of an unlabelled sample, or of the sum of a labelled family.</summary>
    private static double Sample(string metrics, string name)
    {
        var total = 0.0;
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal)
                || line.StartsWith(name + "{", StringComparison.Ordinal))
            {
                var value = line[(line.LastIndexOf(' ') + 1)..];
                total += double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
