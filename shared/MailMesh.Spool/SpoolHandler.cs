namespace MailMesh.Spool;

/// <summary>
/// Brings a spooled message to its outcome. Returning means the outcome is durably recorded and
/// the spool message may be acknowledged; throwing returns it to the spool for another try.
/// </summary>
public delegate Task SpoolHandler(SpooledMessage message, CancellationToken cancellationToken);
