using System.ComponentModel.DataAnnotations;

namespace MailMesh.Delivery.Events;

/// <summary>The outcome events published through MassTransit, bound from <c>MailMesh:Events</c>.</summary>
internal sealed class EventOptions
{
    public const string SectionName = "MailMesh:Events";

    /// <summary>
    /// Publish an event for every recipient's outcome. Default true; false starts no event bus at all.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long publishing a message's events may take, broker confirms included, before the
    /// attempt counts as failed and the spool message returns to the spool. Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
