using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MailMesh.Hosting;

public static class MailMeshDefaults
{
    /// <summary>
    /// What every MailMesh service has: validated shared options, one-line console logs,
    /// and, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, OpenTelemetry traces and metrics of
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
        });

        // Without an exporter nothing listens to the activity sources, so no span is made at
        // all: the RabbitMQ client's per-publish tracing costs nothing when unused.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService(serviceName))
                .WithTracing(tracing => tracing
                    .AddSource("MailMesh.*")
                    .AddSource("RabbitMQ.Client.*")
                    .AddOtlpExporter())
                .WithMetrics(metrics => metrics
                    .AddMeter("MailMesh.*")
                    .AddOtlpExporter());
        }

        return builder;
    }
}
