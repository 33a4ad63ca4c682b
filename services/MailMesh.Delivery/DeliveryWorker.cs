using MailMesh.Spool;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

/// <summary>Consumes the spool for as long as the service runs; on stop, drains what is in flight.</summary>
internal sealed class DeliveryWorker(
    SpoolConsumer consumer,
    DeliveryAgent agent,
    IOptions<DeliveryOptions> options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        consumer.RunAsync(agent.HandleAsync, options.Value.Prefetch, options.Value.DrainTimeout, stoppingToken);
}
