namespace MailMesh.Delivery.Relay;

/// <summary>
/// The SMTP connections of one worker, kept between transactions as Postfix's connection cache
/// keeps them. A connection whose transaction ended cleanly waits here for the next message to
/// the same server, for at most <see cref="DeliveryOptions.ConnectionIdleTimeout"/>, and carries
/// at most <see cref="DeliveryOptions.ConnectionReuseLimit"/> transactions. Connections open,
/// busy or idle, are bounded per server (<see cref="DeliveryOptions.MaxConnectionsPerDestination"/>)
/// and in all (<see cref="DeliveryOptions.MaxConnections"/>), as Postfix bounds its destination
/// concurrency: a delivery past a bound waits until a connection is free, and an idle connection
/// to another server is closed to make room.
/// </summary>
/// <remarks>
/// A connection counts from the moment it is handed out until its QUIT is over, so a server never
/// sees more connections than the bound, not even one that is still closing.
/// </remarks>
internal sealed partial class SmtpConnectionPool : IAsyncDisposable, IDisposable
{
    // Limitation: the connections are pooled and bounded per worker process, so n workers may hold
    // n times MaxConnectionsPerDestination connections to one server; and the bound is fixed,
    // where Postfix starts a destination low and raises or lowers it with how deliveries go.
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SmtpConnectionPool> _logger;
    private readonly Lock _lock = new();

    // Most recently used first: the busiest connections stay warm, the others age out at the end.
    private readonly Dictionary<SmtpConnectionKey, LinkedList<SmtpConnection>> _idle = [];

    // Per server: connections handed out, idle, or closing.
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);

    private readonly LinkedList<Waiter> _waiters = new();
    private readonly HashSet<Task> _closing = [];
    private readonly ITimer _sweep;

    // Connections in all. One closed to make room for another hands its place on at once: the
    // new one connects only once the old one is closed.
    private int _slots;
    private int _idleCount;
    private bool _sweepArmed;
    private bool _disposed;

    public SmtpConnectionPool(DeliveryOptions options, TimeProvider time, ILogger<SmtpConnectionPool> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _sweep = time.CreateTimer(_ => Sweep(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Connections waiting in the pool for their next transaction.</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idleCount;
            }
        }
    }

    /// <summary>
    /// A connection for <paramref name="key"/>: with <paramref name="reuse"/>, an idle one when the
    /// pool has one (<see cref="SmtpConnection.IsReused"/>), otherwise a new one, not yet connected,
    /// that the caller connects. Waits, until <paramref name="cancellationToken"/> gives up, while
    /// the bounds leave no room. Every connection taken goes back through <see cref="Release"/>.
    /// </summary>
    public async Task<SmtpConnection> AcquireAsync(
        SmtpConnectionKey key,
        bool reuse,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Grant? granted;
        Waiter? waiter = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            granted = TryGrant(key, reuse);
            if (granted is null)
            {
                waiter = new Waiter(key, reuse);
                _waiters.AddLast(waiter.Node);
                LogWaiting(_logger, key.Destination, _open.GetValueOrDefault(key.Destination), _slots);
            }
        }

        Grant grant;
        if (granted is { } now)
        {
            grant = now;
        }
        else
        {
            var registration = cancellationToken.Register(() => Abandon(waiter!, cancellationToken));
            await using (registration.ConfigureAwait(false))
            {
                grant = await waiter!.Granted.Task.ConfigureAwait(false);
            }
        }

        var (connection, vacating) = grant;
        if (vacating is not null)
        {
            try
            {
                await vacating.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Release(connection, reusable: false);
                throw;
            }
        }

        return connection;
    }

    /// <summary>
    /// Takes a connection back: into the pool when <paramref name="reusable"/> and it may carry
    /// another transaction, otherwise it is closed, with QUIT when it is still open.
    /// </summary>
    public void Release(SmtpConnection connection, bool reusable)
    {
        lock (_lock)
        {
            var unkept = !reusable ? "its transaction did not end cleanly"
                : _disposed ? "shutting down"
                : _options.ConnectionIdleTimeout <= TimeSpan.Zero ? "connections are not kept"
                : connection.Transactions >= _options.ConnectionReuseLimit ? "reuse limit reached"
                : !connection.IsOpen ? "closed by the server"
                : null;
            if (unkept is null)
            {
                connection.IdleSince = _time.GetTimestamp();
                if (!_idle.TryGetValue(connection.Key, out var idle))
                {
                    idle = new LinkedList<SmtpConnection>();
                    _idle[connection.Key] = idle;
                }

                idle.AddFirst(connection);
                _idleCount++;
                ArmSweep(_options.ConnectionIdleTimeout);
            }
            else
            {
                Close(connection, freeSlot: true, unkept);
            }

            Pump();
        }
    }

    /// <summary>Closes the idle connections with QUIT and waits until every closing one is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] closing;
        lock (_lock)
        {
            if (!_disposed)
            {
                _disposed = true;
                foreach (var idle in _idle.Values.ToList())
                {
                    while (idle.First is { } node)
                    {
                        TakeIdle(node);
                        Close(node.Value, freeSlot: true, "shutting down");
                    }
                }

                foreach (var waiter in _waiters)
                {
                    waiter.Granted.TrySetException(new ObjectDisposedException(nameof(SmtpConnectionPool)));
                }

                _waiters.Clear();
            }

            closing = [.. _closing];
        }

        await _sweep.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    // The host disposes its services synchronously when it is disposed without DisposeAsync.
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    // Under the lock: what a delivery for the key may have now, or null when it has to wait.
    private Grant? TryGrant(SmtpConnectionKey key, bool reuse)
    {
        if (reuse && _idle.TryGetValue(key, out var idle))
        {
            var node = idle.First!;
            TakeIdle(node);
            var pooled = node.Value;
            var idleFor = _time.GetElapsedTime(pooled.IdleSince);
            if (idleFor < _options.ConnectionIdleTimeout && pooled.IsOpen)
            {
                LogReused(_logger, key.Destination, pooled.Transactions + 1, (long)idleFor.TotalMilliseconds);
                DeliveryTelemetry.ConnectionUses.Add(1, Reused(true));
                return new Grant(pooled, null);
            }

            // Idle too long, or closed by the server: a new connection takes its place.
            var stale = Close(pooled, freeSlot: false,
                pooled.IsOpen ? "idle timeout" : "closed by the server");
            Count(key.Destination, +1);
            return new Grant(New(key), stale);
        }

        var open = _open.GetValueOrDefault(key.Destination);
        if (open < _options.MaxConnectionsPerDestination && _slots < _options.MaxConnections)
        {
            _slots++;
            Count(key.Destination, +1);
            return new Grant(New(key), null);
        }

        // Past a bound: the connection idle longest whose closing makes room, if there is one.
        var victim = OldestIdle(open < _options.MaxConnectionsPerDestination ? null : key.Destination);
        if (victim is null)
        {
            return null;
        }

        TakeIdle(victim);
        var vacating = Close(victim.Value, freeSlot: false, "making room for " + key.Destination);
        Count(key.Destination, +1);
        return new Grant(New(key), vacating);
    }

    private static KeyValuePair<string, object?> Reused(bool reused) =>
        new("mailmesh.connection.reused", reused);

    private SmtpConnection New(SmtpConnectionKey key)
    {
        LogNew(_logger, key.Destination, _open.GetValueOrDefault(key.Destination), _slots);
        DeliveryTelemetry.ConnectionUses.Add(1, Reused(false));
        return new SmtpConnection(key);
    }

    // Under the lock, whenever a connection went idle or a place came free: hands out what the
    // deliveries waiting can have now, oldest first, so that one server's steady stream of mail
    // never starves another's (Postfix also takes destinations in turn).
    private void Pump()
    {
        var node = _waiters.First;
        while (node is not null)
        {
            var next = node.Next;
            var waiter = node.Value;
            if (TryGrant(waiter.Key, waiter.Reuse) is { } grant)
            {
                _waiters.Remove(node);
                waiter.Granted.TrySetResult(grant);
            }

            node = next;
        }
    }

    private void Abandon(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (waiter.Node.List is not null)
            {
                _waiters.Remove(waiter.Node);
                waiter.Granted.TrySetCanceled(cancellationToken);
            }
        }
    }

    // Under the lock. The place of the connection stays taken until it is closed; with freeSlot
    // false it already belongs to the connection that replaces it.
    private Task Close(SmtpConnection connection, bool freeSlot, string reason)
    {
        LogClosing(_logger, connection.Key.Destination, connection.Transactions, reason);
        Task closing = null!;
        closing = Task.Run(async () =>
        {
            await connection.CloseAsync(_time).ConfigureAwait(false);
            lock (_lock)
            {
                Count(connection.Key.Destination, -1);
                if (freeSlot)
                {
                    _slots--;
                }

                // The lock was held while closing was assigned, so it is set here.
                _closing.Remove(closing);
                Pump();
            }
        });
        _closing.Add(closing);
        return closing;
    }

    private void Count(string destination, int change)
    {
        DeliveryTelemetry.Connections.Add(change);
        var open = _open.GetValueOrDefault(destination) + change;
        if (open == 0)
        {
            _open.Remove(destination);
        }
        else
        {
            _open[destination] = open;
        }
    }

    private void TakeIdle(LinkedListNode<SmtpConnection> node)
    {
        var idle = node.List!;
        idle.Remove(node);
        _idleCount--;
        if (idle.Count == 0)
        {
            _idle.Remove(node.Value.Key);
        }
    }

    private LinkedListNode<SmtpConnection>? OldestIdle(string? destination)
    {
        LinkedListNode<SmtpConnection>? oldest = null;
        foreach (var (key, idle) in _idle)
        {
            if ((destination is null || key.Destination == destination)
                && (oldest is null || idle.Last!.Value.IdleSince < oldest.Value.IdleSince))
            {
                oldest = idle.Last;
            }
        }

        return oldest;
    }

    private void ArmSweep(TimeSpan due)
    {
        if (!_sweepArmed)
        {
            _sweepArmed = true;
            _sweep.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    // Closes the connections idle past the timeout, then waits for the next one to be.
    private void Sweep()
    {
        lock (_lock)
        {
            _sweepArmed = false;
            if (_disposed)
            {
                return;
            }

            foreach (var idle in _idle.Values.ToList())
            {
                while (idle.Last is { } node
                    && _time.GetElapsedTime(node.Value.IdleSince) >= _options.ConnectionIdleTimeout)
                {
                    TakeIdle(node);
                    Close(node.Value, freeSlot: true, "idle timeout");
                }
            }

            if (OldestIdle(null) is { } oldest)
            {
                var due = _options.ConnectionIdleTimeout - _time.GetElapsedTime(oldest.Value.IdleSince);
                ArmSweep(due > TimeSpan.Zero ? due : TimeSpan.FromMilliseconds(1));
            }

            Pump();
        }
    }

    private readonly record struct Grant(SmtpConnection Connection, Task? Vacating);

    private sealed class Waiter
    {
        public Waiter(SmtpConnectionKey key, bool reuse)
        {
            Key = key;
            Reuse = reuse;
            Node = new LinkedListNode<Waiter>(this);
        }

        public SmtpConnectionKey Key { get; }

        public bool Reuse { get; }

        public LinkedListNode<Waiter> Node { get; }

        // Completed under the pool's lock; what awaits it runs outside.
        public TaskCompletionSource<Grant> Granted { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(EventId = 640, Level = LogLevel.Debug,
        Message = "New connection to {Destination}: {Open} open to it before, {Slots} in all")]
    private static partial void LogNew(ILogger logger, string destination, int open, int slots);

    [LoggerMessage(EventId = 641, Level = LogLevel.Debug,
        Message = "Reusing the connection to {Destination} for transaction {Transaction}, idle {IdleMs} ms")]
    private static partial void LogReused(ILogger logger, string destination, int transaction, long idleMs);

    [LoggerMessage(EventId = 642, Level = LogLevel.Debug,
        Message = "Closing a connection to {Destination} after {Transactions} transactions: {Reason}")]
    private static partial void LogClosing(ILogger logger, string destination, int transactions,
        string reason);

    [LoggerMessage(EventId = 643, Level = LogLevel.Debug,
        Message = "Waiting for a connection to {Destination}: {Open} open to it, {Slots} in all")]
    private static partial void LogWaiting(ILogger logger, string destination, int open, int slots);
}
