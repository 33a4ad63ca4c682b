using System.Collections;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// Every finished span of MailMesh, of MailKit's SMTP client and of MassTransit in this process, through the
/// OpenTelemetry SDK's in-memory exporter. Tests run side by side, so a test picks its own trace
/// out by the queue id on the ingress's span.
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly Spans _spans = new();
    private readonly TracerProvider _provider;

    public SpanRecorder()
    {
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource("MailMesh.*", "MailKit.*", "MassTransit")
            .AddInMemoryExporter(_spans)
            .Build();
    }

    /// <summary>
    /// The spans of the trace whose SMTP transaction got <paramref name="queueId"/>, once
    /// <paramref name="done"/> holds for them.
    /// </summary>
    public async Task<IReadOnlyList<Activity>> WaitForTraceAsync(
        string queueId,
        Func<IReadOnlyList<Activity>, bool> done,
        TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var all = _spans.Snapshot();
            var root = all.FirstOrDefault(span => span.Source.Name == "MailMesh.Ingress"
                && (string?)span.GetTagItem("mailmesh.queue_id") == queueId);
            var trace = root is null ? [] : all.Where(span => span.TraceId == root.TraceId).ToList();
            if (trace.Count > 0 && done(trace))
            {
                return trace;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The trace of {queueId} did not complete; it has:\n"
                    + string.Join('\n', trace.Select(span => $"{span.Source.Name}: {span.DisplayName}")));
            }

            await Task.Delay(50);
        }
    }

    public void Dispose() => _provider.Dispose();

    // The exporter adds from whichever thread ended a span.
    private sealed class Spans : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
