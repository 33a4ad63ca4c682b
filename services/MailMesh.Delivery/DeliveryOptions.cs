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
}
