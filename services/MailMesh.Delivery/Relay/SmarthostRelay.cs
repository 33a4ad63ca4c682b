using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailMesh.Delivery.Routing;
using MailMesh.Spool;
using MimeKit;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// Relays a spooled message to a smarthost over SMTP and gives each recipient its outcome:
/// the RCPT reply when the server refused it there, otherwise the reply to the message data.
/// </summary>
internal sealed class SmarthostRelay(DeliveryOptions options, string hostname)
{
    // Limitation: each spool message opens a connection of its own and closes it after; there is
    // no reuse per destination and no bound on the connections to one host beyond the prefetch.
    public async Task<IReadOnlyList<RecipientOutcome>> DeliverAsync(
        SmarthostRoute route,
        SpoolEnvelope envelope,
        IReadOnlyList<SpoolRecipient> recipients,
        byte[] content,
        CancellationToken cancellationToken)
    {
        var outcomes = new List<RecipientOutcome>(recipients.Count);
        var mailboxes = new Dictionary<MailboxAddress, SpoolRecipient>(ReferenceEqualityComparer.Instance);
        foreach (var recipient in recipients)
        {
            if (TryMailbox(recipient.Address, out var mailbox))
            {
                mailboxes[mailbox] = recipient;
            }
            else
            {
                // Limitation: an address MimeKit cannot parse (RFC 5321 allows some that RFC 5322
                // does not, such as a dot-string with two dots in a row) cannot be sent with
                // SmtpClient; it fails here instead of being relayed as given.
                outcomes.Add(new RecipientOutcome(recipient, OutcomeKind.Failed,
                    "553 5.1.3 the address cannot be relayed as written", route.Name));
            }
        }

        if (mailboxes.Count == 0)
        {
            return outcomes;
        }

        if (!TryMailbox(envelope.ReversePath, out var sender))
        {
            outcomes.AddRange(mailboxes.Values.Select(recipient => new RecipientOutcome(recipient,
                OutcomeKind.Failed, "553 5.1.7 the reverse path cannot be relayed as written", route.Name)));
            return outcomes;
        }

        VerbatimMessage message;
        try
        {
            message = new VerbatimMessage(content);
        }
        catch (FormatException e)
        {
            outcomes.AddRange(mailboxes.Values.Select(recipient => new RecipientOutcome(recipient,
                OutcomeKind.Failed, "554 5.6.0 " + e.Message, route.Name)));
            return outcomes;
        }

        using var client = new RelayClient(new NullProtocolLogger())
        {
            LocalDomain = hostname,
            Timeout = (int)options.SmtpTimeout.TotalMilliseconds,
        };
        if (route.Security == SmarthostSecurity.Opportunistic)
        {
            // RFC 7435: opportunistic TLS encrypts whatever the certificate; refusing a
            // self-signed one would only send the message in plain text or not at all.
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        }

        client.Begin(envelope, mailboxes);
        var stage = "connect";
        try
        {
            await ConnectAsync(client, route, cancellationToken).ConfigureAwait(false);
            if (route.Credentials is { } credentials)
            {
                stage = "authenticate";
                await client.AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
            }

            stage = "send";
            var format = FormatOptions.Default.Clone();
            // RFC 6531: SMTPUTF8 is asked for when the client gave it.
            format.International = envelope.SmtpUtf8;
            var reply = await client.SendAsync(format, message, sender, [.. mailboxes.Keys],
                cancellationToken).ConfigureAwait(false);
            foreach (var (mailbox, recipient) in mailboxes)
            {
                outcomes.Add(client.ReplyTo(mailbox) is { } refused && (int)refused.StatusCode >= 300
                    ? Outcome(recipient, (int)refused.StatusCode, refused.Response, route)
                    : new RecipientOutcome(recipient, OutcomeKind.Delivered, "250 " + reply, route.Name));
            }
        }
        catch (SmtpCommandException e)
        {
            // Refused at MAIL, at DATA or after the data: every recipient the server had taken at
            // RCPT shares that reply; one it refused at RCPT keeps its own.
            // With PIPELINING the RCPT replies to a refused MAIL say only "need MAIL first".
            var senderRefused = e.ErrorCode == SmtpErrorCode.SenderNotAccepted;
            foreach (var (mailbox, recipient) in mailboxes)
            {
                outcomes.Add(!senderRefused && client.ReplyTo(mailbox) is { } rcpt && (int)rcpt.StatusCode >= 300
                    ? Outcome(recipient, (int)rcpt.StatusCode, rcpt.Response, route)
                    : Outcome(recipient, (int)e.StatusCode, e.Message, route));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException
            or SslHandshakeException or AuthenticationException
            or System.Security.Authentication.AuthenticationException or ServiceNotAuthenticatedException
            or NotSupportedException or TimeoutException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // RFC 5321 4.5.4.1: a connection that fails or breaks is a temporary failure. A
            // refused login is one too, as in Postfix: the operator fixes the credentials and the
            // mail is still there.
            var reply = $"451 4.4.1 {stage} to {route.Name} failed: {Describe(e)}";
            outcomes.AddRange(mailboxes.Values.Select(recipient =>
                new RecipientOutcome(recipient, OutcomeKind.Deferred, reply, route.Name)));
        }
        finally
        {
            await QuitAsync(client).ConfigureAwait(false);
        }

        return outcomes;
    }

    private async Task ConnectAsync(RelayClient client, SmarthostRoute route, CancellationToken cancellationToken)
    {
        var security = route.Security switch
        {
            SmarthostSecurity.Required => SecureSocketOptions.StartTls,
            SmarthostSecurity.None => SecureSocketOptions.None,
            SmarthostSecurity.Implicit => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(options.ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(route.Host, route.Port, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException(
                        $"no connection within {options.ConnectTimeout.TotalSeconds:0.#} s");
                }
            }

            await client.ConnectAsync(socket, route.Host, route.Port, security, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            if (!client.IsConnected)
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private static async Task QuitAsync(RelayClient client)
    {
        if (!client.IsConnected)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await client.DisconnectAsync(quit: true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException
            or OperationCanceledException)
        {
            // The outcome is known already; a failed QUIT changes nothing.
        }
    }

    private static RecipientOutcome Outcome(SpoolRecipient recipient, int code, string text, SmarthostRoute route) =>
        new(recipient, RecipientOutcome.KindOf(code), $"{code} {text.ReplaceLineEndings(" ")}", route.Name);

    private static string Describe(Exception e) => e switch
    {
        SocketException socket => socket.SocketErrorCode.ToString(),
        _ => e.Message.ReplaceLineEndings(" "),
    };

    private static bool TryMailbox(string address, out MailboxAddress mailbox)
    {
        try
        {
            // The null reverse path (RFC 5321 4.5.5) is an empty address: MAIL FROM:<>.
            mailbox = new MailboxAddress(string.Empty, address);
            return true;
        }
        catch (ParseException)
        {
            mailbox = null!;
            return false;
        }
    }
}
