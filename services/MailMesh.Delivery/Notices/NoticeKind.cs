namespace MailMesh.Delivery.Notices;

/// <summary>What a delivery status notification tells the sender.</summary>
internal enum NoticeKind
{
    /// <summary>Recipients failed or expired: the bounce (RFC 3464 <c>Action: failed</c>).</summary>
    Failure,

    /// <summary>Recipients are still deferred after a while (RFC 3464 <c>Action: delayed</c>).</summary>
    Delay,

    /// <summary>
    /// Recipients whose NOTIFY asked for SUCCESS were delivered to their Maildir
    /// (<c>Action: delivered</c>) or relayed to a server without DSN (<c>Action: relayed</c>).
    /// </summary>
    Success,
}
