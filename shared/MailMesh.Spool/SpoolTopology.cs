using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MailMesh.Spool;

/// <summary>
/// Names and arguments of the spool's queues. Every argument whose default differs between
/// RabbitMQ 3.10 and 4.x is given explicitly, so every broker behaves alike; declaring is
/// idempotent, so every service declares the topology it uses when it connects.
/// </summary>
/// <param name="options">The queue prefix and the spool's limits.</param>
/// <param name="waitDelays">
/// The delays of the wait queues to declare: deferred mail waits in the queue of its delay and
/// then returns to the spool. None for a service that never defers (the ingress).
/// </param>
public sealed class SpoolTopology(SpoolOptions options, IEnumerable<TimeSpan>? waitDelays = null)
{
    // Delivery count of queues nobody consumes from, or only an operator does: RabbitMQ 4.x
    // would otherwise apply its default of 20, 3.10 none; -1 (no limit) is unknown to 3.10.
    private const int UnconsumedDeliveryLimit = 1000;

    // RabbitMQ refuses a message TTL of 2^32 ms (about 49.7 days) or more.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    /// <summary>Quorum queue of messages waiting for delivery.</summary>
    public string SpoolQueue { get; } = options.QueuePrefix + ".spool";

    /// <summary>Spool messages still not handled at the delivery limit, kept for an operator.</summary>
    public string PoisonQueue { get; } = options.QueuePrefix + ".poison";

    /// <summary>The delays of the declared wait queues, each once, in the order given.</summary>
    public IReadOnlyList<TimeSpan> WaitDelays { get; } = Normalize(waitDelays);

    /// <summary>The names of the declared wait queues, in the order of <see cref="WaitDelays"/>.</summary>
    public IReadOnlyList<string> WaitQueues => [.. WaitDelays.Select(WaitQueue)];

    public int MaxLength => options.MaxLength;

    /// <summary>
    /// The wait queue of a delay: <c>PREFIX.wait.</c> and the delay in its largest whole unit
    /// (<c>mailmesh.wait.5m</c>, <c>mailmesh.wait.4h</c>, <c>mailmesh.wait.90s</c>). A queue's
    /// name is its delay, so a changed schedule declares new queues instead of clashing with
    /// the arguments of existing ones.
    /// </summary>
    public string WaitQueue(TimeSpan delay) => options.QueuePrefix + ".wait." + DelayName(delay);

    /// <summary>
    /// A delay in its largest whole unit: <c>2d</c>, <c>4h</c>, <c>80m</c>, <c>30s</c>, <c>1500ms</c>.
    /// </summary>
    public static string DelayName(TimeSpan delay)
    {
        var milliseconds = WholeMilliseconds(delay);
        foreach (var (unit, length) in new (string, long)[]
        {
            ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000),
        })
        {
            if (milliseconds % length == 0)
            {
                return (milliseconds / length).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return milliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    public Dictionary<string, object?> SpoolArguments() => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-max-length"] = options.MaxLength,
        // A full spool must refuse new mail (the client keeps it), never drop the oldest.
        ["x-overflow"] = "reject-publish",
        ["x-delivery-limit"] = options.DeliveryLimit,
        ["x-dead-letter-exchange"] = "",
        ["x-dead-letter-routing-key"] = PoisonQueue,
        // At-least-once dead-lettering keeps a poison message until the poison queue confirms it.
        ["x-dead-letter-strategy"] = "at-least-once",
    };

    public Dictionary<string, object?> PoisonArguments() => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-overflow"] = "reject-publish",
        // No limit: a message that reached this queue has been accepted and is kept for an operator.
        ["x-delivery-limit"] = UnconsumedDeliveryLimit,
    };

    /// <summary>
    /// A wait queue: nobody consumes it; each message expires after the queue's delay and is
    /// dead-lettered back into the spool. All messages of a queue share one TTL, so the oldest
    /// is always at the head, where a quorum queue expires messages.
    /// </summary>
    public Dictionary<string, object?> WaitArguments(TimeSpan delay) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-message-ttl"] = WholeMilliseconds(delay),
        // Refused rather than dropped when full: the worker then keeps the spool message. It is
        // also what at-least-once dead-lettering demands of its source queue.
        ["x-overflow"] = "reject-publish",
        ["x-delivery-limit"] = UnconsumedDeliveryLimit,
        ["x-dead-letter-exchange"] = "",
        ["x-dead-letter-routing-key"] = SpoolQueue,
        // An expired message leaves the wait queue only once the spool has confirmed it; with
        // at-most-once, mail would be lost whenever the spool is full or unavailable.
        ["x-dead-letter-strategy"] = "at-least-once",
    };

    /// <summary>
    /// Declares every queue of the spool, each on a channel of its own. Returns the names of
    /// queues that already exist with other arguments: the broker keeps a queue's arguments for
    /// its life, so such a queue is used as it is and the caller warns the operator.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeclareAsync(
        IConnection connection,
        CancellationToken cancellationToken)
    {
        List<(string Name, Dictionary<string, object?> Arguments)> queues =
        [
            (PoisonQueue, PoisonArguments()),
            (SpoolQueue, SpoolArguments()),
            .. WaitDelays.Select(delay => (WaitQueue(delay), WaitArguments(delay))),
        ];
        var mismatched = new List<string>();
        foreach (var (name, arguments) in queues)
        {
            if (!await DeclareQueueAsync(connection, name, arguments, cancellationToken)
                .ConfigureAwait(false))
            {
                await EnsureExistsAsync(connection, name, cancellationToken).ConfigureAwait(false);
                mismatched.Add(name);
            }
        }

        return mismatched;
    }

    private static async Task EnsureExistsAsync(
        IConnection connection,
        string name,
        CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            await channel.QueueDeclarePassiveAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> DeclareQueueAsync(
        IConnection connection,
        string name,
        Dictionary<string, object?> arguments,
        CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            try
            {
                await channel.QueueDeclareAsync(
                    name,
                    durable: true,
                    exclusive: false,
                    autoDelete: false,
                    arguments: arguments,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
            {
                // PRECONDITION_FAILED: the queue exists with other arguments.
                return false;
            }
        }
    }

    private static IReadOnlyList<TimeSpan> Normalize(IEnumerable<TimeSpan>? delays)
    {
        var distinct = new List<TimeSpan>();
        foreach (var delay in delays ?? [])
        {
            // The broker's TTL is whole milliseconds: delays that differ by less are one queue.
            var whole = TimeSpan.FromMilliseconds(WholeMilliseconds(delay));
            if (!distinct.Contains(whole))
            {
                distinct.Add(whole);
            }
        }

        return distinct;
    }

    private static long WholeMilliseconds(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.FromMilliseconds(1), nameof(delay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(delay, LongestWait, nameof(delay));
        return delay.Ticks / TimeSpan.TicksPerMillisecond;
    }
}
