namespace MailMesh.Spool;

/// <summary>
/// The broker did not confirm a publish: it is unreachable, blocked by a resource alarm,
/// refused the message or was too slow. The message is not spooled and the sender must retry.
/// </summary>
public sealed class SpoolUnavailableException(string message, Exception? inner = null)
    : Exception(message, inner);
