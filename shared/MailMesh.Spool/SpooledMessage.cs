namespace MailMesh.Spool;

/// <summary>One message taken from the spool by a delivery worker.</summary>
/// <param name="Envelope">The SMTP envelope, read from the AMQP headers.</param>
/// <param name="Body">The message's raw bytes, exactly as spooled.</param>
/// <param name="MessageId">The AMQP message id, <c>QUEUEID.PART</c>.</param>
/// <param name="Redelivered">
/// The broker handed this message out before (a worker died or returned it): it may have been
/// delivered already.
/// </param>
public sealed record SpooledMessage(SpoolEnvelope Envelope, byte[] Body, string? MessageId, bool Redelivered);
