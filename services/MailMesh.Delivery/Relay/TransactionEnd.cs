namespace MailMesh.Delivery.Relay;

/// <summary>The state a mail transaction left its connection in.</summary>
internal enum TransactionEnd
{
    /// <summary>Delivered, or refused with a reply and reset: ready for the next transaction.</summary>
    Clean,

    /// <summary>Broken, refused at login, or closing: it carries nothing more.</summary>
    Broken,

    /// <summary>
    /// Lost before the server answered MAIL FROM: the server took nothing of the transaction, so
    /// it may go again on another connection.
    /// </summary>
    Unanswered,
}
