using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MailMesh.Hosting;

public static class MailMeshDefaults
{
    /// <summary>Every MailMesh activity source: <c>MailMesh.Ingress</c>, <c>MailMesh.Delivery</c>, ...</summary>
    public const string SourcePattern = "MailMesh.*";

    /// <summary>Every MailMesh meter.</summary>
    public const string MeterPattern = "MailMesh.*";

    /// <summary>
    /// What every MailMesh service has: validated shared options, one-line console logs, health
    /// and metrics over HTTP when <c>MailMesh:Http:Port</c> is set, and, when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, OpenTelemetry traces, metrics and logs of
    /// MailMesh's own sources and the RabbitMQ client, exported there over OTLP.
    /// </summary>
    public static IHostApplicationBuilder AddMailMeshDefaults(
        this IHostApplicationBuilder builder,
        string serviceName)
    {
        builder.Services.AddOptions<MailMeshOptions>().BindConfiguration(MailMeshOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
            // The trace id of the message being handled, so a log line leads to its trace.
            console.IncludeScopes = true;
        });
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId);

        builder.Services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        // Registered before the service's own hosted services: it starts first and stops last, so
        // readiness is visibly down while the service starts and while it drains.
        builder.Services.AddHealthChecks();
        builder.Services.TryAddSingleton<HttpEndpoints>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<HttpEndpoints>());

        // Without an exporter nothing listens to the activity sources, so no span is made at
        // all: the RabbitMQ client's per-publish tracing costs nothing when unused.
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var prometheus = !string.IsNullOrWhiteSpace(builder.Configuration[HttpOptions.SectionName + ":Port"]);
        if (otlp || prometheus)
        {
            var telemetry = builder.Services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService(serviceName))
                .WithMetrics(metrics =>
                {
                    metrics.AddMeter(MeterPattern);
                    if (otlp)
                    {
                        metrics.AddOtlpExporter();
                    }

                    if (prometheus)
                    {
                        metrics.AddPrometheusExporter();
                    }
                });
            if (otlp)
            {
                telemetry.WithTracing(tracing => tracing
                    .AddSource(SourcePattern)
                    .AddSource("RabbitMQ.Client.*")
                    // The delivery worker's SMTP client spans, and the outcome events' publishes.
                    .AddSource("MailKit.*")
                    .AddSource("MassTransit")
                    .AddOtlpExporter());
                builder.Logging.AddOpenTelemetry(logging =>
                {
                    logging.IncludeFormattedMessage = true;
                    logging.AddOtlpExporter();
                });
            }
        }

        return builder;
    }
}
