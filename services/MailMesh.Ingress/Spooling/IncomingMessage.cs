using MailMesh.Spool;

namespace MailMesh.Ingress.Spooling;

/// <summary>A message whose DATA ended well, ready to be spooled.</summary>
/// <param name="Content">The message to relay: MailMesh's headers, then the client's bytes.</param>
internal sealed record IncomingMessage(
    string QueueId,
    string ReversePath,
    IReadOnlyList<SpoolRecipient> Recipients,
    ReadOnlyMemory<byte> Content,
    DateTimeOffset ArrivedAt,
    string ClientAddress,
    string ClientHelo,
    string Body,
    bool SmtpUtf8,
    string? EnvelopeId,
    string? Return);
