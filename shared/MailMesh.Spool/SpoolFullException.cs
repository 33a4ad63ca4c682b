namespace MailMesh.Spool;

/// <summary>The spool queue is at its configured length; the broker refused the message.</summary>
public sealed class SpoolFullException(string message) : Exception(message);
