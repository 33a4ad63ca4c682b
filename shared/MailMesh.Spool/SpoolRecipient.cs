namespace MailMesh.Spool;

/// <summary>One forward path of an envelope, as the client gave it in RCPT TO.</summary>
public sealed record SpoolRecipient(string Address);
