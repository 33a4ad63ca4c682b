using System.ComponentModel.DataAnnotations;

namespace MailMesh.Delivery;

/// <summary>How a delivery worker takes and relays mail, bound from <c>MailMesh:Delivery</c>.</summary>
internal sealed class DeliveryOptions
{
    public const string SectionName = "MailMesh:Delivery";

    /// <summary>
    /// Spool messages a worker holds unacknowledged, and so delivers at once. Default 16.
    /// </summary>
    [Range(1, 1000)]
    public int Prefetch { get; set; } = 16;

    /// <summary>How long connecting to a remote SMTP server may take. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one SMTP read or write may take. Default 5 minutes, the RFC 5321 4.5.3.2 timeout
    /// for MAIL, RCPT and a data block.
    /// </summary>
    // Limitation: the reply to the final dot waits at most this long too, where RFC 5321
    // 4.5.3.2.6 gives it 10 minutes; raise it for servers that take long to accept large mail.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:30:00")]
    public TimeSpan SmtpTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the session's start may take in all, after the connect: the greeting, EHLO,
    /// STARTTLS and AUTH. Default 5 minutes, RFC 5321 4.5.3.2.1's wait for the greeting and
    /// Postfix's <c>smtp_helo_timeout</c>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:30:00")]
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long one transaction may take in all, from MAIL to the reply after the data.
    /// Default 15 minutes: RFC 5321 4.5.3.2's waits for MAIL, RCPT and DATA with time to send a
    /// large message, inside <see cref="AttemptTimeout"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:25:00")]
    public TimeSpan TransactionTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Port of the MX hosts that mail is relayed to. Default 25; another port lets tests run
    /// their own mail exchangers on loopback addresses.
    /// </summary>
    [Range(1, 65535)]
    public int MxPort { get; set; } = 25;

    /// <summary>
    /// Addresses of a domain's MX hosts tried in one attempt, in preference order, before its
    /// recipients are deferred. Default 5, as Postfix's <c>smtp_mx_address_limit</c>.
    /// </summary>
    [Range(1, 100)]
    public int MaxMxAddresses { get; set; } = 5;

    /// <summary>
    /// Failed connections in a row to one server, within <see cref="CircuitBreakerDuration"/>,
    /// after which it is not tried for that long. Default 5.
    /// </summary>
    [Range(1, 1000)]
    public int CircuitBreakerFailures { get; set; } = 5;

    /// <summary>
    /// How far back failed connections count toward the breaker, and how long an open breaker
    /// skips its server. Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a connection whose transaction ended cleanly stays open, unused, for the next
    /// message to the same server; after that it is closed with QUIT. Zero closes every connection
    /// after its transaction. Default 5 seconds. Postfix keeps its cached connections 2 seconds
    /// (<c>smtp_connection_cache_time_limit</c>), which suits a queue manager that hands a
    /// destination's messages over back to back; a worker takes them as the broker delivers the
    /// spool, with acknowledgements and events in between, and 5 seconds bridges those gaps while
    /// staying far inside the 5 minutes a server waits for the next command (RFC 5321 4.5.3.2.7),
    /// so the server seldom closes a pooled connection first.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Mail transactions one connection carries before it is closed; 1 never reuses one. Default
    /// 100, as Postfix's <c>smtp_connection_reuse_count_limit</c>: a long-lived session would
    /// otherwise keep one server's process busy for ever and never see a changed DNS answer.
    /// </summary>
    [Range(1, 100_000)]
    public int ConnectionReuseLimit { get; set; } = 100;

    /// <summary>
    /// Connections, busy or idle, a worker holds open to one server (one address and port, or
    /// one smarthost); a delivery that needs another waits until one is free. Default 20, as
    /// Postfix's <c>default_destination_concurrency_limit</c>.
    /// </summary>
    [Range(1, 1000)]
    public int MaxConnectionsPerDestination { get; set; } = 20;

    /// <summary>
    /// Connections, busy or idle, a worker holds open in all; a delivery that needs another waits,
    /// and an idle connection to another server is closed to make room. Default 100, as Postfix's
    /// <c>default_process_limit</c>, which bounds its SMTP clients and so their connections.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConnections { get; set; } = 100;

    /// <summary>
    /// On shutdown, how long deliveries in progress may take to finish before they are cancelled
    /// and their messages return to the spool. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one delivery attempt of a spool message may take in all; recipients still in
    /// progress then are deferred. It keeps every spool message far inside the broker's consumer
    /// timeout (30 minutes by default), past which the broker would hand the message to another
    /// worker. Default 20 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:25:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// The waits before each next attempt of a deferred recipient: entry 0 after the first
    /// attempt, entry 1 after the second, the last entry after every later one. Default, after
    /// RFC 5321 4.5.4.1 and Postfix: 5 minutes, doubling to a cap of 4 hours
    /// (<see cref="DefaultRetrySchedule"/>).
    /// </summary>
    // Empty here and filled after binding: the configuration binder adds to a list it finds,
    // so a default written here would be prepended to the configured schedule.
    public List<TimeSpan> RetrySchedule { get; set; } = [];

    /// <summary>
    /// How long after its arrival a message may be tried; a deferred recipient whose next
    /// attempt would come later expires instead. Default 5 days, as RFC 5321 4.5.4.1 suggests.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan MaxQueueLifetime { get; set; } = TimeSpan.FromDays(5);

    /// <summary>The retry schedule when none is configured.</summary>
    public static IReadOnlyList<TimeSpan> DefaultRetrySchedule { get; } =
    [
        TimeSpan.FromMinutes(5),
        TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(20),
        TimeSpan.FromMinutes(40),
        TimeSpan.FromMinutes(80),
        TimeSpan.FromMinutes(160),
        TimeSpan.FromHours(4),
    ];

    /// <summary>The wait after attempt <paramref name="attempt"/> (1-based) was deferred.</summary>
    public TimeSpan RetryDelayAfter(int attempt) =>
        RetrySchedule[Math.Clamp(attempt - 1, 0, RetrySchedule.Count - 1)];

    /// <summary>
    /// How old a message must be before a deferred recipient's sender is told it is still being
    /// tried (RFC 3464 <c>Action: delayed</c>), once per message. Zero sends no delay notices.
    /// Default 4 hours.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan DelayWarningTime { get; set; } = TimeSpan.FromHours(4);

    /// <summary>
    /// Whether each delivery span names its recipients (<c>mailmesh.recipients</c>). Off by
    /// default: a trace then tells how many recipients there were, never who they were.
    /// </summary>
    public bool TraceRecipients { get; set; }

    /// <summary>
    /// How often the depth of each spool queue is read from the broker for the
    /// <c>mailmesh.spool.messages</c> gauge. Zero reads none. Default 15 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan QueueDepthInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Largest original message, in octets, that a bounce returns whole (RET=FULL, or no RET);
    /// a larger one is returned as its header section only. Default 1 MiB.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int ReturnedMessageLimit { get; set; } = 1024 * 1024;
}
