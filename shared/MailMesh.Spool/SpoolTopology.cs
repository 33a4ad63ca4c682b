using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MailMesh.Spool;

/// <summary>
/// Names and arguments of the spool's queues. Every argument whose default differs between
/// RabbitMQ 3.10 and 4.x is given explicitly, so every broker behaves alike; declaring is
/// idempotent, so every service declares the topology it uses when it connects.
/// </summary>
public sealed class SpoolTopology(SpoolOptions options)
{
    /// <summary>Quorum queue of messages waiting for delivery.</summary>
    public string SpoolQueue { get; } = options.QueuePrefix + ".spool";

    /// <summary>Spool messages still not handled at the delivery limit, kept for an operator.</summary>
    public string PoisonQueue { get; } = options.QueuePrefix + ".poison";

    /// <summary>
    /// Spool messages whose recipients were deferred, each a copy holding only those recipients,
    /// kept until they are tried again.
    /// </summary>
    // Limitation: nothing moves these messages back into the spool yet (there is no TTL and no
    // ladder of wait queues): deferred mail waits here until an operator shovels it back.
    public string DeferredQueue { get; } = options.QueuePrefix + ".deferred";

    public int MaxLength => options.MaxLength;

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
        ["x-delivery-limit"] = 1000,
    };

    public Dictionary<string, object?> DeferredArguments() => new()
    {
        ["x-queue-type"] = "quorum",
        // Full or not, a deferred copy is refused rather than dropped: the worker then keeps the
        // spool message and tries it again.
        ["x-overflow"] = "reject-publish",
        ["x-delivery-limit"] = 1000,
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
        var mismatched = new List<string>();
        foreach (var (name, arguments) in new[]
        {
            (PoisonQueue, PoisonArguments()),
            (SpoolQueue, SpoolArguments()),
            (DeferredQueue, DeferredArguments()),
        })
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
}
