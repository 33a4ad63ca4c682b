using MailMesh.Ingress.Protocol;
using MailMesh.Spool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailMesh.Ingress.Spooling;

/// <summary>
/// Spools a message into RabbitMQ: its recipients split by destination domain and into groups
/// of at most <see cref="SpoolOptions.RecipientsPerMessage"/>, one spool message per group, all
/// published at once. The reply is 250 only when the broker has confirmed every one of them.
/// </summary>
internal sealed partial class BrokerSpool(
    SpoolPublisher publisher,
    IOptions<SpoolOptions> options,
    ILogger<BrokerSpool> logger) : IMessageSpool
{
    private readonly int _groupSize = options.Value.RecipientsPerMessage;

    public async Task<SmtpReply> StoreAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        var groups = Split(message.Recipients, _groupSize);
        var publishes = new Task[groups.Count];
        for (var i = 0; i < groups.Count; i++)
        {
            var envelope = new SpoolEnvelope(
                message.QueueId,
                message.ReversePath,
                groups[i],
                message.ArrivedAt,
                Attempt: 0,
                message.ClientAddress,
                message.ClientHelo,
                message.Body,
                Part: i + 1,
                Parts: groups.Count,
                message.SmtpUtf8,
                message.EnvelopeId,
                message.Return);
            publishes[i] = publisher.PublishAsync(envelope, message.Content, cancellationToken);
        }

        try
        {
            await Task.WhenAll(publishes).ConfigureAwait(false);
            return new SmtpReply(250, "2.0.0", "Ok: queued as " + message.QueueId);
        }
        catch (SpoolFullException e)
        {
            // Limitation: parts already confirmed stay spooled and are delivered; the client
            // retries the whole message, so those recipients may receive it twice.
            LogNotSpooled(logger, message.QueueId, e.Message);
            return new SmtpReply(452, "4.3.1",
                "Insufficient system storage: the spool is full, try again later");
        }
        catch (SpoolUnavailableException e)
        {
            LogNotSpooled(logger, message.QueueId, e.Message);
            return new SmtpReply(451, "4.3.0",
                "Message not queued: the spool is unavailable, try again later");
        }
    }

    /// <summary>Recipients grouped by domain, in order of first appearance, each group cut to size.</summary>
    internal static List<SpoolRecipient[]> Split(IReadOnlyList<SpoolRecipient> recipients, int groupSize)
    {
        var byDomain = new Dictionary<string, List<SpoolRecipient>>(StringComparer.OrdinalIgnoreCase);
        var order = new List<List<SpoolRecipient>>();
        foreach (var recipient in recipients)
        {
            var at = recipient.Address.LastIndexOf('@');
            var domain = at < 0 ? "" : recipient.Address[(at + 1)..];
            if (!byDomain.TryGetValue(domain, out var list))
            {
                list = [];
                byDomain.Add(domain, list);
                order.Add(list);
            }

            list.Add(recipient);
        }

        var groups = new List<SpoolRecipient[]>();
        foreach (var list in order)
        {
            groups.AddRange(list.Chunk(groupSize));
        }

        return groups;
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning,
        Message = "{QueueId}: not spooled, the client was told to retry: {Reason}")]
    private static partial void LogNotSpooled(ILogger logger, string queueId, string reason);
}
