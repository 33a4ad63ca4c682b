using System.Net;
using MailMesh.Hosting;
using MailMesh.Spool;
using MailMesh.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailMesh.Ingress.Tests.Support;

/// <summary>
/// A real ingress, built as Program.cs builds it, listening on a free loopback port and
/// spooling into queues of its own on a real broker.
/// </summary>
internal sealed class IngressServer : IAsyncDisposable
{
    private readonly IHost _host;

    private IngressServer(IHost host, IPEndPoint endpoint, string prefix, Uri broker)
    {
        _host = host;
        Endpoint = endpoint;
        QueuePrefix = prefix;
        Broker = broker;
    }

    public IPEndPoint Endpoint { get; }

    public IPEndPoint? SubmissionEndpoint { get; private init; }

    public string QueuePrefix { get; }

    public Uri Broker { get; }

    public string SpoolQueue => QueuePrefix + ".spool";

    /// <summary>The health and metrics endpoint, when MailMesh:Http:Port was set.</summary>
    public Uri? Http => _host.Services.GetRequiredService<HttpEndpoints>().BaseAddress;

    public const string Hostname = "mx.mailmesh.test";

    public static async Task<IngressServer> StartAsync(
        Action<Dictionary<string, string?>>? configure = null,
        Uri? broker = null,
        CapturedLogs? logs = null)
    {
        broker ??= await TestBroker.SharedUriAsync();
        var prefix = "test-" + Guid.NewGuid().ToString("N")[..12];
        var settings = new Dictionary<string, string?>
        {
            ["MailMesh:Hostname"] = Hostname,
            ["MailMesh:Ingress:Address"] = "127.0.0.1",
            ["MailMesh:Ingress:Port"] = "0",
            ["MailMesh:RabbitMq:Uri"] = broker.ToString(),
            ["MailMesh:RabbitMq:ConfirmTimeout"] = "00:00:05",
            ["MailMesh:RabbitMq:ConnectTimeout"] = "00:00:02",
            ["MailMesh:RabbitMq:ReconnectDelay"] = "00:00:00.200",
            ["MailMesh:Spool:QueuePrefix"] = prefix,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        configure?.Invoke(settings);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            Configuration = new ConfigurationManager(),
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMailMeshDefaults("mailmesh-ingress-test");
        builder.Services.AddMailMeshIngress(builder.Configuration);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddFilter(_ => true);
        }
        var host = builder.Build();
        await host.StartAsync();
        var server = host.Services.GetRequiredService<SmtpServer>();
        var endpoint = await server.Relay.Bound;
        var submission = server.Submission is { } listener ? await listener.Bound : null;

        // The spool's queues exist once the publisher has connected; tests count on them.
        await host.Services.GetRequiredService<SpoolPublisher>().TryConnectAsync(CancellationToken.None);
        return new IngressServer(host, endpoint, prefix, broker) { SubmissionEndpoint = submission };
    }

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public SpoolProbe Spool() => new(Broker, SpoolQueue);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
        await using var probe = Spool();
        await probe.DeleteQueuesAsync(QueuePrefix);
    }
}
