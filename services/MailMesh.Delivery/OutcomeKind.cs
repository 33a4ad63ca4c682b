namespace MailMesh.Delivery;

/// <summary>Where one recipient of a delivery attempt ended.</summary>
internal enum OutcomeKind
{
    /// <summary>The destination took responsibility for the message (2xx), or it is in the mailbox.</summary>
    Delivered,

    /// <summary>A temporary failure (4xx, a connection fault, a timeout): to be tried again.</summary>
    Deferred,

    /// <summary>A permanent failure (5xx): never tried again.</summary>
    Failed,

    /// <summary>
    /// Deferred past the queue lifetime: the next attempt would come too long after the message
    /// arrived, so it is never tried again.
    /// </summary>
    Expired,
}
