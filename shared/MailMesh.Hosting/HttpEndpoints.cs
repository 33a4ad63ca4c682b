using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace MailMesh.Hosting;

/// <summary>
/// A small HTTP server beside the service: <c>/health/live</c> (the process answers),
/// <c>/health/ready</c> (every check tagged <see cref="ReadyTag"/> passes and the service is not
/// stopping) and <c>/metrics</c> (Prometheus text format).
/// </summary>
/// <remarks>
/// It is a web application of its own rather than the service's host, so the services stay plain
/// generic hosts and nothing listens on HTTP unless a port is configured.
/// </remarks>
public sealed partial class HttpEndpoints(
    IOptions<HttpOptions> options,
    HealthCheckService health,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<HttpEndpoints> logger) : IHostedService, IAsyncDisposable
{
    public const string ReadyTag = "ready";

    private WebApplication? _app;

    /// <summary>Where the endpoint listens once started; null when no port is configured.</summary>
    public Uri? BaseAddress { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Port is not { } port)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // Nothing of ASPNETCORE_* or the service's own configuration should move this endpoint.
            Args = [],
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(settings.Address), port));
        var app = builder.Build();

        app.MapGet("/health/live", () => Results.Text("Healthy\n"));
        app.MapGet("/health/ready", ReadyAsync);
        if (services.GetService<MeterProvider>() is { } meters)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(meters,
                context => context.Request.Path == "/metrics", null, null, null);
        }

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        BaseAddress = new Uri(app.Urls.First());
        LogListening(logger, BaseAddress);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<IResult> ReadyAsync(CancellationToken cancellationToken)
    {
        // Readiness drops as soon as shutdown begins, before the service stops taking work, so a
        // load balancer or orchestrator sends nothing new to a service on its way out.
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Results.Text("Unhealthy: stopping\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken)
            .ConfigureAwait(false);
        var text = new StringBuilder().Append(report.Status).Append('\n');
        foreach (var (name, entry) in report.Entries)
        {
            text.Append(name).Append(": ").Append(entry.Status);
            if (entry.Description is { Length: > 0 } description)
            {
                text.Append(" (").Append(description).Append(')');
            }

            text.Append('\n');
        }

        return Results.Text(text.ToString(), statusCode: report.Status == HealthStatus.Healthy
            ? StatusCodes.Status200OK
            : StatusCodes.Status503ServiceUnavailable);
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information,
        Message = "Health and metrics on {Address} (/health/live, /health/ready, /metrics)")]
    private static partial void LogListening(ILogger logger, Uri address);
}
