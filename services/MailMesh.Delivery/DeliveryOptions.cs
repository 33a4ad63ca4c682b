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
    // Limitation: one timeout for every SMTP stage; RFC 5321 4.5.3.2.6 gives the reply to the
    // final dot 10 minutes, which a slow server may need for a large message.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:30:00")]
    public TimeSpan SmtpTimeout { get; set; } = TimeSpan.FromMinutes(5);

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
    /// Largest original message, in octets, that a bounce returns whole (RET=FULL, or no RET);
    /// a larger one is returned as its header section only. Default 1 MiB.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int ReturnedMessageLimit { get; set; } = 1024 * 1024;
}
