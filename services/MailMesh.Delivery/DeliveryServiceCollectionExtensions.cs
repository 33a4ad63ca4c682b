using MailMesh.Delivery.Events;
using MailMesh.Delivery.Maildir;
using MailMesh.Delivery.Mx;
using MailMesh.Delivery.Notices;
using MailMesh.Delivery.Relay;
using MailMesh.Delivery.Routing;
using MailMesh.Hosting;
using MailMesh.Spool;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    private static int _mailKitTelemetry;

    /// <summary>
    /// Registers the delivery worker: options, transport map, routes, the spool consumer, bounces
    /// and the outcome events. <paramref name="configuration"/> says whether events are enabled
    /// (<c>MailMesh:Events:Enabled</c>); without it they are.
    /// </summary>
    public static IServiceCollection AddMailMeshDelivery(
        this IServiceCollection services,
        IConfiguration? configuration = null)
    {
        // MailKit's SmtpClient spans (connect, authenticate, send) exist only once configured; the
        // call sets up process-wide instruments, so it is made once however many hosts are built.
        if (Interlocked.Exchange(ref _mailKitTelemetry, 1) == 0)
        {
            MailKit.Telemetry.SmtpClient.Configure();
        }

        // The worker declares the wait queues of its schedule, so it can defer into them.
        services.AddMailMeshSpoolConsumer(sp =>
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.RetrySchedule);
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.SectionName)
            .PostConfigure(options =>
            {
                if (options.RetrySchedule.Count == 0)
                {
                    options.RetrySchedule.AddRange(DeliveryOptions.DefaultRetrySchedule);
                }
            })
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.SectionName)
            .PostConfigure(AddDefaultRoutes)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RoutingOptions>, RoutingOptionsValidator>();

        services.AddSingleton(sp => BuildMap(sp.GetRequiredService<IOptions<RoutingOptions>>().Value));
        services.AddSingleton(sp => new MaildirWriter(
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<MailMeshOptions>>().Value.Hostname));
        services.AddOptions<DnsOptions>().BindConfiguration(DnsOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DnsOptions>, DnsOptionsValidator>();
        services.AddSingleton(sp => new MxResolver(
            DnsOptionsValidator.NewLookupClient(sp.GetRequiredService<IOptions<DnsOptions>>().Value),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.MxPort,
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.MaxMxAddresses));
        services.AddSingleton(sp => new DestinationBreakers(
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        // A singleton: the container disposes it on shutdown, which ends its idle connections with QUIT.
        services.AddSingleton(sp => new SmtpConnectionPool(
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SmtpConnectionPool>>()));
        services.AddSingleton(sp => new SmtpRelay(
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value,
            sp.GetRequiredService<DestinationBreakers>(),
            new StageTimeouts(
                sp.GetRequiredService<IOptions<DeliveryOptions>>().Value,
                sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<SmtpConnectionPool>(),
            sp.GetRequiredService<IOptions<MailMeshOptions>>().Value.Hostname,
            sp.GetRequiredService<ILogger<SmtpRelay>>()));
        services.TryAddSingleton(sp => new QueueIdGenerator(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new NoticeBuilder(
            sp.GetRequiredService<IOptions<MailMeshOptions>>().Value.Hostname,
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.ReturnedMessageLimit));
        services.AddSingleton(sp => new NoticeSender(
            sp.GetRequiredService<NoticeBuilder>(),
            sp.GetRequiredService<SpoolConsumer>(),
            sp.GetRequiredService<QueueIdGenerator>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.DelayWarningTime,
            sp.GetRequiredService<ILogger<NoticeSender>>()));
        // Before the worker: hosted services stop in reverse order, so the bus outlives the drain.
        EventBusRegistration.AddOutcomeEvents(services, configuration);
        services.AddSingleton<OutcomeRecorder>();
        services.AddSingleton<DeliveryAgent>();
        services.AddHostedService<DeliveryWorker>();
        services.AddHostedService<SpoolDepthMonitor>();
        return services;
    }

    private static void AddDefaultRoutes(RoutingOptions options)
    {
        foreach (var (domain, target) in RoutingOptions.DefaultRoutes)
        {
            options.Routes.TryAdd(domain, target);
        }
    }

    private static TransportMap BuildMap(RoutingOptions options)
    {
        var baseDirectory = Environment.CurrentDirectory;
        var routes = new Dictionary<string, Route>(StringComparer.Ordinal);
        foreach (var (domain, target) in options.Routes)
        {
            // An empty entry removes a default route.
            if (!string.IsNullOrWhiteSpace(target))
            {
                routes[domain.Trim().TrimEnd('.').ToLowerInvariant()] = RouteParser.Parse(target, baseDirectory);
            }
        }

        return new TransportMap(routes, RouteParser.Parse(options.DefaultRoute, baseDirectory));
    }
}
