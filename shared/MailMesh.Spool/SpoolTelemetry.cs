using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;

namespace MailMesh.Spool;

/// <summary>
/// The spool's spans and instruments, and the W3C trace context that travels with a spool message
/// in its AMQP headers (<c>traceparent</c>, <c>tracestate</c>), so that delivery continues the
/// trace the SMTP session began.
/// </summary>
public static class SpoolTelemetry
{
    public const string Name = "MailMesh.Spool";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Time from publishing a spool message to the broker's confirm.</summary>
    public static readonly Histogram<double> ConfirmDuration = Meter.CreateHistogram<double>(
        "mailmesh.spool.confirm.duration", "s", "Time from publish to the broker's confirm",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
        });

    /// <summary>Starts the producer span of one publish into <paramref name="queue"/>.</summary>
    public static Activity? StartPublish(string queue, string messageId, int size)
    {
        // OpenTelemetry messaging conventions: "{operation} {destination}".
        var activity = Source.StartActivity("send " + queue, ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "rabbitmq");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "send");
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("messaging.message.id", messageId);
            activity.SetTag("messaging.message.body.size", size);
        }

        return activity;
    }

    /// <summary>
    /// Starts the consumer span of one spool message's delivery attempt, as a child of the span
    /// that published it: the ingress's for a first attempt, the deferral's for a later one, so
    /// every attempt of a message lies in the trace its SMTP session began.
    /// </summary>
    public static Activity? StartProcess(
        string queue,
        SpooledMessage message,
        IDictionary<string, object?>? headers)
    {
        var parent = Extract(headers);
        // A later attempt is also linked to the deferral it comes back from, which the trace UI
        // shows as "follows from".
        ActivityLink[]? links = message.Envelope.Attempt > 0 && parent != default
            ? [new ActivityLink(parent)]
            : null;
        var activity = Source.StartActivity(ActivityKind.Consumer, parent, links: links,
            name: "process " + queue);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "rabbitmq");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("messaging.message.id", message.MessageId);
            activity.SetTag("messaging.message.body.size", message.Body.Length);
            activity.SetTag("mailmesh.queue_id", message.Envelope.QueueId);
            activity.SetTag("mailmesh.attempt", message.Envelope.Attempt + 1);
            activity.SetTag("mailmesh.recipients.count", message.Envelope.Recipients.Count);
        }

        return activity;
    }

    /// <summary>Writes the context of <paramref name="activity"/> into a message's headers.</summary>
    public static void Inject(Activity? activity, IDictionary<string, object?> headers)
    {
        if (activity is null)
        {
            return;
        }

        DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, key, value) =>
        {
            if (carrier is IDictionary<string, object?> target)
            {
                target[key] = value;
            }
        });
    }

    /// <summary>The trace context a message carries, or default when it carries none.</summary>
    public static ActivityContext Extract(IDictionary<string, object?>? headers)
    {
        if (headers is null)
        {
            return default;
        }

        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (carrier, key,
            out value, out values) =>
        {
            values = null;
            value = carrier is IDictionary<string, object?> source && source.TryGetValue(key, out var raw)
                ? raw switch
                {
                    // AMQP delivers string headers as bytes.
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    string text => text,
                    _ => null,
                }
                : null;
        }, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context)
            ? context
            : default;
    }
}
