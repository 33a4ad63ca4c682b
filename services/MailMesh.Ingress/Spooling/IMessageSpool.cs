using MailMesh.Ingress.Protocol;

namespace MailMesh.Ingress.Spooling;

/// <summary>
/// Takes a message off the session and answers the reply the client gets for it, so the
/// session cannot say 250 before the message is safe.
/// </summary>
internal interface IMessageSpool
{
    Task<SmtpReply> StoreAsync(IncomingMessage message, CancellationToken cancellationToken);
}
