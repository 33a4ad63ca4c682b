using System.Globalization;
using MailMesh.Hosting;
using MailMesh.Ingress;
using MailMesh.Spool;
using MailMesh.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// A real ingress and a real delivery worker, each built as its Program.cs builds it, sharing
/// queues of their own on a real broker, with a mailbox directory of their own.
/// </summary>
internal sealed class MailFlow : IAsyncDisposable
{
    public const string Hostname = "relay.mailmesh.test";

    private IHost? _ingress;
    private IHost? _delivery;
    private readonly Dictionary<string, string?> _deliverySettings;

    private MailFlow(Uri broker, string prefix, string mailboxes, Dictionary<string, string?> deliverySettings)
    {
        Broker = broker;
        QueuePrefix = prefix;
        Mailboxes = mailboxes;
        _deliverySettings = deliverySettings;
    }

    public Uri Broker { get; }

    public string QueuePrefix { get; }

    /// <summary>The Maildir root that <c>.test</c> and <c>localhost</c> route to.</summary>
    public string Mailboxes { get; }

    public int SmtpPort { get; private set; }

    public RecordingLoggerProvider DeliveryLog { get; } = new();

    /// <summary>
    /// Starts both services; <paramref name="configure"/> adds delivery settings, such as routes.
    /// With <paramref name="startDelivery"/> false only the ingress runs until <see cref="StartDeliveryAsync"/>.
    /// </summary>
    public static async Task<MailFlow> StartAsync(
        Action<Dictionary<string, string?>>? configure = null,
        bool startDelivery = true)
    {
        var broker = await TestBroker.SharedUriAsync();
        var prefix = "test-" + Guid.NewGuid().ToString("N")[..12];
        var mailboxes = Directory.CreateTempSubdirectory("mailmesh-mailboxes-").FullName;
        var settings = Common(broker, prefix);
        settings["MailMesh:Routes:.test"] = "file://" + mailboxes;
        settings["MailMesh:Routes:localhost"] = "file://" + mailboxes;
        settings["MailMesh:Delivery:ConnectTimeout"] = "00:00:05";
        settings["MailMesh:Delivery:SmtpTimeout"] = "00:00:20";
        settings["MailMesh:Delivery:DrainTimeout"] = "00:00:10";
        configure?.Invoke(settings);

        var flow = new MailFlow(broker, prefix, mailboxes, settings);
        try
        {
            await flow.StartIngressAsync();
            if (startDelivery)
            {
                await flow.StartDeliveryAsync();
            }
        }
        catch
        {
            await flow.DisposeAsync();
            throw;
        }

        return flow;
    }

    public async Task StartDeliveryAsync()
    {
        var builder = NewBuilder(_deliverySettings);
        builder.AddMailMeshDefaults("mailmesh-delivery-test");
        builder.Services.AddMailMeshDelivery(builder.Configuration);
        builder.Logging.AddProvider(DeliveryLog);
        _delivery = builder.Build();
        await _delivery.StartAsync();
    }

    /// <summary>Stops the delivery worker as SIGTERM would.</summary>
    public async Task StopDeliveryAsync()
    {
        if (_delivery is null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _delivery.StopAsync(timeout.Token);
        _delivery.Dispose();
        _delivery = null;
    }

    /// <summary>The delivery worker's health and metrics endpoint, when MailMesh:Http:Port was set.</summary>
    public Uri? DeliveryHttp => _delivery?.Services.GetRequiredService<HttpEndpoints>().BaseAddress;

    public QueueProbe Queues() => new(Broker, QueuePrefix, RetrySchedule);

    /// <summary>The delivery worker's retry schedule: the one configured, else the default.</summary>
    public IReadOnlyList<TimeSpan> RetrySchedule
    {
        get
        {
            const string key = "MailMesh:Delivery:RetrySchedule:";
            List<TimeSpan> configured = [.. _deliverySettings
                .Where(setting => setting.Key.StartsWith(key, StringComparison.Ordinal)
                    && setting.Value is not null)
                .OrderBy(setting => int.Parse(setting.Key[key.Length..], CultureInfo.InvariantCulture))
                .Select(setting => TimeSpan.Parse(setting.Value!, CultureInfo.InvariantCulture))];
            return configured.Count > 0 ? configured : DeliveryOptions.DefaultRetrySchedule;
        }
    }

    /// <summary>Every file delivered into the Maildir of <paramref name="address"/>, waiting for <paramref name="count"/>.</summary>
    public async Task<string[]> WaitForMaildirAsync(string mailbox, int count, TimeSpan timeout)
    {
        var incoming = Path.Combine(Mailboxes, mailbox, "new");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var files = Directory.Exists(incoming) ? Directory.GetFiles(incoming) : [];
            if (files.Length >= count || clock.Elapsed > timeout)
            {
                return files;
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopDeliveryAsync();
        if (_ingress is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _ingress.StopAsync(timeout.Token);
            _ingress.Dispose();
        }

        await using (var probe = Queues())
        {
            await probe.DeleteAllAsync();
        }

        Directory.Delete(Mailboxes, recursive: true);
    }

    /// <summary>
    /// Another MailMesh ingress, as a remote MTA that offers STARTTLS (its certificate
    /// self-signed), on <paramref name="address"/> and <paramref name="port"/>, spooling into
    /// queues of its own; dispose it before the flow.
    /// </summary>
    public async Task<(IHost Host, string QueuePrefix)> StartRemoteMtaAsync(string address, int port)
    {
        var prefix = QueuePrefix + "-remote";
        var settings = Common(Broker, prefix);
        settings["MailMesh:Hostname"] = "remote.mailmesh.test";
        settings["MailMesh:Ingress:Address"] = address;
        settings["MailMesh:Ingress:Port"] = port.ToString(CultureInfo.InvariantCulture);
        var builder = NewBuilder(settings);
        builder.AddMailMeshDefaults("mailmesh-remote-test");
        builder.Services.AddMailMeshIngress(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        await FreePort.WaitListeningAsync(address, port, TimeSpan.FromSeconds(10));
        await host.Services.GetRequiredService<SpoolPublisher>().TryConnectAsync(CancellationToken.None);
        return (host, prefix);
    }

    private async Task StartIngressAsync()
    {
        SmtpPort = FreePort.Next();
        var settings = Common(Broker, QueuePrefix);
        settings["MailMesh:Ingress:Address"] = "127.0.0.1";
        settings["MailMesh:Ingress:Port"] = SmtpPort.ToString(CultureInfo.InvariantCulture);
        var builder = NewBuilder(settings);
        builder.AddMailMeshDefaults("mailmesh-ingress-test");
        builder.Services.AddMailMeshIngress(builder.Configuration);
        _ingress = builder.Build();
        await _ingress.StartAsync();
        await FreePort.WaitListeningAsync(SmtpPort, TimeSpan.FromSeconds(10));
        await _ingress.Services.GetRequiredService<SpoolPublisher>().TryConnectAsync(CancellationToken.None);
    }

    private static Dictionary<string, string?> Common(Uri broker, string prefix) => new()
    {
        ["MailMesh:Hostname"] = Hostname,
        ["MailMesh:RabbitMq:Uri"] = broker.ToString(),
        ["MailMesh:RabbitMq:ConfirmTimeout"] = "00:00:05",
        ["MailMesh:RabbitMq:ConnectTimeout"] = "00:00:02",
        ["MailMesh:RabbitMq:ReconnectDelay"] = "00:00:00.200",
        ["MailMesh:Spool:QueuePrefix"] = prefix,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:MailMesh.Delivery"] = "Information",
        ["Logging:LogLevel:MailMesh.Spool"] = "Information",
    };

    private static HostApplicationBuilder NewBuilder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            Configuration = new ConfigurationManager(),
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        return builder;
    }
}
