using System.Collections.Concurrent;
using System.Net;

namespace MailMesh.Ingress.Security;

/// <summary>
/// Counts failed AUTH attempts per client address within a sliding window, so a client guessing
/// passwords is cut off after a few tries whatever number of connections it opens.
/// </summary>
internal sealed class AuthFailureTracker(int limit, TimeSpan window, TimeProvider time)
{
    private readonly ConcurrentDictionary<IPAddress, Queue<DateTimeOffset>> _failures = new();

    public bool IsBlocked(IPAddress client)
    {
        if (!_failures.TryGetValue(client, out var times))
        {
            return false;
        }

        lock (times)
        {
            Expire(times);
            return times.Count >= limit;
        }
    }

    /// <summary>Records a failure; true when the client has now reached the limit.</summary>
    public bool RecordFailure(IPAddress client)
    {
        var times = _failures.GetOrAdd(client, _ => new Queue<DateTimeOffset>());
        lock (times)
        {
            Expire(times);
            times.Enqueue(time.GetUtcNow());
            return times.Count >= limit;
        }
    }

    private void Expire(Queue<DateTimeOffset> times)
    {
        var cutoff = time.GetUtcNow() - window;
        while (times.Count > 0 && times.Peek() < cutoff)
        {
            times.Dequeue();
        }
    }
}
