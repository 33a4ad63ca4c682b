using MailMesh.Spool;
using MassTransit;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery.Events;

/// <summary>Sets up the MassTransit bus that carries the outcome events, on MailMesh's own broker.</summary>
internal static class EventBusRegistration
{
    public static void AddOutcomeEvents(IServiceCollection services, IConfiguration? configuration)
    {
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        var enabled = configuration?.GetValue(
            EventOptions.SectionName + ":" + nameof(EventOptions.Enabled), true) ?? true;
        if (!enabled)
        {
            services.AddSingleton(sp => new OutcomeEvents(null,
                sp.GetRequiredService<IOptions<EventOptions>>().Value.PublishTimeout,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<OutcomeEvents>>()));
            return;
        }

        // Limitation: the exchanges take MassTransit's names, not the spool's QueuePrefix, so
        // instances sharing a virtual host share their events; and MassTransit's activity source
        // is not among those the OpenTelemetry setup exports, so events are not in the traces.
        services.AddMassTransit(bus =>
        {
            // MassTransit would otherwise report usage to its authors over the network.
            bus.DisableUsageTelemetry();
            // Named and tagged apart, so a readiness probe counts the event bus only when asked to.
            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Name = "mailmesh-events";
                health.Tags.Clear();
                health.Tags.Add("events");
            });
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                var broker = BrokerAddress.From(options.Uri);
                rabbit.Host(broker.Host, broker.Port, broker.VirtualHost, "mailmesh:events", host =>
                {
                    host.Username(broker.User);
                    host.Password(broker.Password);
                    host.PublisherConfirmation = true;
                    host.RequestedConnectionTimeout(options.ConnectTimeout);
                    if (broker.Tls)
                    {
                        host.UseSsl(ssl => ssl.ServerName = broker.Host);
                    }
                });
            });
        });

        // The bus connects in the background: a broker down at start delays no other service, and
        // publishing fails within the publish timeout until it is back.
        services.AddOptions<MassTransitHostOptions>().Configure(host =>
        {
            host.WaitUntilStarted = false;
            host.StopTimeout = TimeSpan.FromSeconds(10);
        });
        services.AddSingleton(sp => new OutcomeEvents(sp.GetRequiredService<IBus>(),
            sp.GetRequiredService<IOptions<EventOptions>>().Value.PublishTimeout,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OutcomeEvents>>()));
    }
}
