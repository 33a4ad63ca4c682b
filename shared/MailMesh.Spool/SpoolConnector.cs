using Microsoft.Extensions.Hosting;

namespace MailMesh.Spool;

/// <summary>
/// Connects to the broker when the service starts, so the spool's queues exist and a broker
/// that cannot be reached shows in the log at once, not at the first message.
/// </summary>
internal sealed class SpoolConnector(SpoolPublisher publisher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        publisher.TryConnectAsync(stoppingToken);
}
