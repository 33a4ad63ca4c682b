namespace MailMesh.Delivery.Tests.Support;

/// <summary>A mail transaction a <see cref="ScriptedMx"/> took.</summary>
/// <param name="Connection">The connection it came on, numbered from 1 in the order they came.</param>
/// <param name="Recipients">The recipients accepted at RCPT.</param>
/// <param name="Data">The message as received, with CRLF line ends and the dot-stuffing removed.</param>
internal sealed record ScriptedTransaction(int Connection, IReadOnlyList<string> Recipients, byte[] Data);
