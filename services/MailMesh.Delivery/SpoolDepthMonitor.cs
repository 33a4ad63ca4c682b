using MailMesh.Spool;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

/// <summary>
/// Reads the depth of every spool queue from the broker every
/// <see cref="DeliveryOptions.QueueDepthInterval"/>, for the <c>mailmesh.spool.messages</c> gauge:
/// an operator sees the backlog and the deferred mail waiting, per queue.
/// </summary>
internal sealed partial class SpoolDepthMonitor(
    SpoolConsumer spool,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    ILogger<SpoolDepthMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.QueueDepthInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                var depths = await spool.CountQueuesAsync(stoppingToken).ConfigureAwait(false);
                DeliveryTelemetry.SetQueueDepths(depths);
            }
            catch (SpoolUnavailableException e)
            {
                // The consumer reconnects by itself; the gauge keeps its last values meanwhile.
                LogCountFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 670, Level = LogLevel.Debug,
        Message = "Could not read the spool queue depths: {Reason}")]
    private static partial void LogCountFailed(ILogger logger, string reason);
}
