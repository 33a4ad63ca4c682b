using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace MailMesh.Spool;

/// <summary>
/// Writes a <see cref="SpoolEnvelope"/> into AMQP message headers and reads it back. Every
/// header carries the <c>mm-</c> prefix; <c>mm-schema</c> names the layout so a worker can
/// refuse a spool message written by a future version instead of misreading it.
/// </summary>
public static class EnvelopeHeaders
{
    public const int SchemaVersion = 1;

    public const string Schema = "mm-schema";
    public const string QueueId = "mm-queue-id";
    public const string ReversePath = "mm-reverse-path";
    public const string Recipients = "mm-recipients";
    public const string ArrivedAt = "mm-arrived-at";
    public const string Attempt = "mm-attempt";
    public const string ClientAddress = "mm-client-address";
    public const string ClientHelo = "mm-client-helo";
    public const string Body = "mm-body";
    public const string Part = "mm-part";
    public const string Parts = "mm-parts";
    public const string SmtpUtf8 = "mm-smtputf8";
    public const string EnvelopeId = "mm-envid";
    public const string Return = "mm-ret";
    public const string DelayNotified = "mm-delay-notified";

    private const string RecipientAddress = "address";
    private const string RecipientNotify = "notify";
    private const string RecipientOriginal = "orcpt";

    /// <summary>The AMQP message id of a spool message: <c>QUEUEID.PART</c>.</summary>
    public static string MessageId(SpoolEnvelope envelope) =>
        envelope.QueueId + "." + envelope.Part.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The AMQP properties every spool message is published with: persistent, its raw bytes typed
    /// <c>message/rfc822</c>, its message id, its arrival time, and <paramref name="headers"/>.
    /// </summary>
    public static BasicProperties Properties(SpoolEnvelope envelope, IDictionary<string, object?> headers) =>
        new()
        {
            Persistent = true,
            ContentType = "message/rfc822",
            MessageId = MessageId(envelope),
            AppId = "mailmesh",
            Timestamp = new AmqpTimestamp(envelope.ArrivedAt.ToUnixTimeSeconds()),
            Headers = headers,
        };

    public static Dictionary<string, object?> Write(SpoolEnvelope envelope)
    {
        var recipients = new List<object>(envelope.Recipients.Count);
        foreach (var recipient in envelope.Recipients)
        {
            var table = new Dictionary<string, object?> { [RecipientAddress] = recipient.Address };
            if (recipient.Notify is not null)
            {
                table[RecipientNotify] = recipient.Notify;
            }

            if (recipient.OriginalRecipient is not null)
            {
                table[RecipientOriginal] = recipient.OriginalRecipient;
            }

            recipients.Add(table);
        }

        // Optional fields are left out when unset, so the common message carries only what it uses.
        var headers = new Dictionary<string, object?>
        {
            [Schema] = SchemaVersion,
            [QueueId] = envelope.QueueId,
            [ReversePath] = envelope.ReversePath,
            [Recipients] = recipients,
            [ArrivedAt] = envelope.ArrivedAt.ToUnixTimeMilliseconds(),
            [Attempt] = envelope.Attempt,
            [ClientAddress] = envelope.ClientAddress,
            [ClientHelo] = envelope.ClientHelo,
            [Body] = envelope.Body,
            [Part] = envelope.Part,
            [Parts] = envelope.Parts,
        };
        if (envelope.SmtpUtf8)
        {
            headers[SmtpUtf8] = true;
        }

        if (envelope.EnvelopeId is not null)
        {
            headers[EnvelopeId] = envelope.EnvelopeId;
        }

        if (envelope.Return is not null)
        {
            headers[Return] = envelope.Return;
        }

        if (envelope.DelayNotified)
        {
            headers[DelayNotified] = true;
        }

        return headers;
    }

    /// <summary>Reads the envelope back; throws <see cref="FormatException"/> when it cannot.</summary>
    public static SpoolEnvelope Read(IDictionary<string, object?>? headers)
    {
        if (headers is null)
        {
            throw new FormatException("The spool message has no headers.");
        }

        var schema = ReadLong(headers, Schema);
        if (schema != SchemaVersion)
        {
            throw new FormatException(
                $"The spool message has envelope schema {schema}; this version reads {SchemaVersion}.");
        }

        if (!headers.TryGetValue(Recipients, out var list) || list is not IEnumerable<object> items)
        {
            throw new FormatException($"The spool message has no {Recipients} list.");
        }

        var recipients = new List<SpoolRecipient>();
        foreach (var item in items)
        {
            if (item is not IDictionary<string, object?> table)
            {
                throw new FormatException($"An entry of {Recipients} is not a table.");
            }

            recipients.Add(new SpoolRecipient(
                ReadString(table, RecipientAddress),
                ReadOptionalString(table, RecipientNotify),
                ReadOptionalString(table, RecipientOriginal)));
        }

        return new SpoolEnvelope(
            ReadString(headers, QueueId),
            ReadString(headers, ReversePath),
            recipients,
            DateTimeOffset.FromUnixTimeMilliseconds(ReadLong(headers, ArrivedAt)),
            checked((int)ReadLong(headers, Attempt)),
            ReadString(headers, ClientAddress),
            ReadString(headers, ClientHelo),
            ReadString(headers, Body),
            checked((int)ReadLong(headers, Part)),
            checked((int)ReadLong(headers, Parts)),
            headers.TryGetValue(SmtpUtf8, out var utf8) && utf8 is true,
            ReadOptionalString(headers, EnvelopeId),
            ReadOptionalString(headers, Return),
            headers.TryGetValue(DelayNotified, out var notified) && notified is true);
    }

    private static string? ReadOptionalString(IDictionary<string, object?> headers, string name) =>
        headers.ContainsKey(name) ? ReadString(headers, name) : null;

    private static string ReadString(IDictionary<string, object?> headers, string name)
    {
        // The client hands AMQP long strings back as raw bytes; MailMesh writes them as UTF-8.
        return headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string text => text,
            _ => throw new FormatException($"Header {name} is not a string."),
        } : throw new FormatException($"The spool message has no {name} header.");
    }

    private static long ReadLong(IDictionary<string, object?> headers, string name)
    {
        return headers.TryGetValue(name, out var value) ? value switch
        {
            int number => number,
            long number => number,
            short number => number,
            byte number => number,
            byte[] bytes => long.Parse(Encoding.ASCII.GetString(bytes), CultureInfo.InvariantCulture),
            _ => throw new FormatException($"Header {name} is not a number."),
        } : throw new FormatException($"The spool message has no {name} header.");
    }
}
