using System.ComponentModel.DataAnnotations;

namespace MailMesh.Spool;

/// <summary>How MailMesh reaches its broker, bound from <c>MailMesh:RabbitMq</c>.</summary>
public sealed class RabbitMqOptions
{
    public const string SectionName = "MailMesh:RabbitMq";

    /// <summary>The broker, as <c>amqp://user:pass@host:5672/vhost</c>. Default: local, as guest.</summary>
    [Required]
    public Uri Uri { get; set; } = new("amqp://guest:guest@127.0.0.1:5672/");

    /// <summary>How long a connection attempt may take. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a publish may wait for the broker's confirm before the client is told to try
    /// later (451 4.3.0). Default 30 seconds, well inside a client's 10 minute DATA timeout.
    /// </summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a failed connection attempt, publishes fail at once for this long instead of each
    /// waiting for its own attempt. Default 1 second.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Channels kept for publishing. Each carries one publish until its confirm arrives, so this
    /// bounds the publishes in flight. Default 32.
    /// </summary>
    [Range(1, 1000)]
    public int PublishChannels { get; set; } = 32;
}
