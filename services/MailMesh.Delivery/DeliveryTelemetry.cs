using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MailMesh.Delivery;

/// <summary>The delivery worker's spans and instruments (README, "Metrics" and "Traces", lists them).</summary>
internal static class DeliveryTelemetry
{
    public const string Name = "MailMesh.Delivery";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    // Queue depths as last read from the broker by SpoolDepthMonitor; a gauge must not block.
    private static volatile IReadOnlyDictionary<string, uint> _depths = new Dictionary<string, uint>();

    public static readonly Counter<long> Outcomes = Meter.CreateCounter<long>(
        "mailmesh.delivery.outcomes", "{recipient}",
        "Recipient outcomes: delivered, deferred, failed or expired, by route");

    public static readonly Histogram<double> Latency = Meter.CreateHistogram<double>(
        "mailmesh.delivery.latency", "s", "Time from a message's arrival at the ingress to a recipient's outcome",
        advice: new InstrumentAdvice<double>
        {
            // From a local Maildir in milliseconds to expiry after days.
            HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400, 432000],
        });

    public static readonly Counter<long> Attempts = Meter.CreateCounter<long>(
        "mailmesh.delivery.attempts", "{attempt}",
        "Delivery attempts of a spool message's recipients along one route");

    public static readonly Histogram<double> AttemptDuration = Meter.CreateHistogram<double>(
        "mailmesh.delivery.attempt.duration", "s", "Time one delivery attempt along one route took",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 1200],
        });

    public static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>(
        "mailmesh.delivery.connections", "{connection}",
        "SMTP connections a worker holds: in a transaction, idle in its pool, or closing");

    public static readonly Counter<long> ConnectionUses = Meter.CreateCounter<long>(
        "mailmesh.delivery.connection.uses", "{connection}",
        "SMTP connections handed to a delivery: new ones, and reused ones from the pool");

    private static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge(
        "mailmesh.spool.messages",
        () => _depths.Select(depth => new Measurement<long>(depth.Value,
            new KeyValuePair<string, object?>("messaging.destination.name", depth.Key))),
        "{message}",
        "Messages ready in each spool queue: the spool, the poison queue and every wait queue");

    /// <summary>What the gauge of queue depths reports from now on.</summary>
    public static void SetQueueDepths(IReadOnlyDictionary<string, uint> depths) => _depths = depths;

    /// <summary>Starts the span of one attempt along one route.</summary>
    public static Activity? StartDelivery(string route, int recipients)
    {
        var activity = Source.StartActivity("deliver " + route, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("mailmesh.route", route);
            activity.SetTag("mailmesh.recipients.count", recipients);
        }

        return activity;
    }

    /// <summary>Starts the span of one DNS query.</summary>
    public static Activity? StartLookup(string name, string type)
    {
        var activity = Source.StartActivity("dns " + type, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("dns.question.name", name);
            activity.SetTag("dns.question.type", type);
        }

        return activity;
    }

    /// <summary>Starts the span of making and spooling one delivery status notification.</summary>
    public static Activity? StartNotice(string kind, string queueId)
    {
        var activity = Source.StartActivity("notify " + kind, ActivityKind.Internal);
        activity?.SetTag("mailmesh.queue_id", queueId);
        return activity;
    }
}
