using System.Globalization;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailMesh.Spool;
using MimeKit;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// Relays a spooled message over SMTP to the first server of a <see cref="SmtpTarget"/> that
/// takes the connection, and gives each recipient its outcome: the RCPT reply when the server
/// refused it there, otherwise the reply to the message data. A server that cannot be reached,
/// or that refuses the session in its greeting, passes the message to the next one
/// (RFC 5321 5.1); when none is left the recipients are deferred. Connections come from the
/// <see cref="SmtpConnectionPool"/> and go back to it after the transaction, for the next message
/// to the same server.
/// </summary>
internal sealed partial class SmtpRelay(
    DeliveryOptions options,
    DestinationBreakers breakers,
    StageTimeouts stages,
    SmtpConnectionPool pool,
    string hostname,
    ILogger<SmtpRelay> logger)
{
    public async Task<IReadOnlyList<RecipientOutcome>> DeliverAsync(
        SmtpTarget target,
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
                    "553 5.1.3 the address cannot be relayed as written", target.Name));
            }
        }

        if (mailboxes.Count == 0)
        {
            return outcomes;
        }

        if (!TryMailbox(envelope.ReversePath, out var sender))
        {
            outcomes.AddRange(mailboxes.Values.Select(recipient => new RecipientOutcome(recipient,
                OutcomeKind.Failed, "553 5.1.7 the reverse path cannot be relayed as written", target.Name)));
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
                OutcomeKind.Failed, "554 5.6.0 " + e.Message, target.Name)));
            return outcomes;
        }

        var transaction = new MailTransaction(target, envelope, message, sender, mailboxes);

        // Why the servers tried so far did not take the message; the last one speaks for all.
        var refusal = "451 4.4.1 no server to connect to";
        string? refusedBy = null;
        var allRefusedPermanently = target.Endpoints.Count > 0;
        foreach (var endpoint in target.Endpoints)
        {
            var key = SmtpConnectionKey.For(target, endpoint);
            var connection = await pool.AcquireAsync(key, reuse: true, cancellationToken)
                .ConfigureAwait(false);
            // Limitation: a pooled connection whose peer vanished without closing it (a firewall
            // or NAT that forgot the flow) is noticed only when its first command gets no reply
            // within SmtpTimeout; no NOOP probes it first, which would cost every reuse a round trip.
            if (connection.IsReused)
            {
                if (await TransactAsync(connection, endpoint, transaction, cancellationToken)
                    .ConfigureAwait(false) is { } sent)
                {
                    outcomes.AddRange(sent);
                    return outcomes;
                }

                // The server had closed the connection while it lay in the pool (its idle timeout
                // ran out just then): nothing was taken, so the message goes on a new connection,
                // which is tried as if none had been pooled.
                LogReusedLost(logger, envelope.QueueId, Label(target, endpoint), connection.Transactions - 1);
                connection = await pool.AcquireAsync(key, reuse: false, cancellationToken)
                    .ConfigureAwait(false);
            }

            try
            {
                await OpenAsync(connection, target, endpoint, cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpCommandException e)
            {
                // Refused in the greeting or at EHLO: RFC 5321 5.1 and Postfix go on to the next.
                refusal = Reply((int)e.StatusCode, e.Message);
                refusedBy = Remote(target, endpoint);
                allRefusedPermanently &= (int)e.StatusCode >= 500;
                pool.Release(connection, reusable: false);
                continue;
            }
            catch (Exception e) when (IsUnreachable(e, cancellationToken))
            {
                refusal = $"451 4.4.1 connect to {Label(target, endpoint)} failed: {Describe(e)}";
                refusedBy = target.NamesEndpoint ? null : target.Name;
                allRefusedPermanently = false;
                pool.Release(connection, reusable: false);
                continue;
            }
            catch
            {
                pool.Release(connection, reusable: false);
                throw;
            }

            // A new connection is never sent again: whatever it ends in is the outcome.
            outcomes.AddRange((await TransactAsync(connection, endpoint, transaction, cancellationToken)
                .ConfigureAwait(false))!);
            return outcomes;
        }

        var kind = allRefusedPermanently ? OutcomeKind.Failed : OutcomeKind.Deferred;
        outcomes.AddRange(mailboxes.Values.Select(recipient =>
            new RecipientOutcome(recipient, kind, refusal, refusedBy)));
        return outcomes;
    }

    /// <summary>
    /// Runs one mail transaction on a connected connection and gives it back to the pool, to be
    /// kept when the server is ready for the next one. Null when a reused connection was lost
    /// before the server answered anything: the transaction may go again on another.
    /// </summary>
    private async Task<IReadOnlyList<RecipientOutcome>?> TransactAsync(
        SmtpConnection connection,
        SmtpEndpoint endpoint,
        MailTransaction transaction,
        CancellationToken cancellationToken)
    {
        var client = connection.Client!;
        var reused = connection.IsReused;
        var end = TransactionEnd.Broken;
        try
        {
            client.Begin(transaction.Envelope, transaction.Mailboxes);
            (var outcomes, end) = await TransferAsync(client, endpoint, transaction, cancellationToken)
                .ConfigureAwait(false);
            return end == TransactionEnd.Unanswered && reused ? null : outcomes;
        }
        finally
        {
            connection.CountTransaction();
            pool.Release(connection, reusable: end == TransactionEnd.Clean);
        }
    }

    private async Task<(IReadOnlyList<RecipientOutcome> Outcomes, TransactionEnd End)> TransferAsync(
        RelayClient client,
        SmtpEndpoint endpoint,
        MailTransaction transaction,
        CancellationToken cancellationToken)
    {
        var target = transaction.Target;
        var mailboxes = transaction.Mailboxes;
        var remote = Remote(target, endpoint);
        var outcomes = new List<RecipientOutcome>(mailboxes.Count);
        var stage = "authenticate";
        TransactionEnd end;
        try
        {
            // A reused connection logged in when it was opened; its key holds the same login.
            if (target.Credentials is { } credentials && !client.IsAuthenticated)
            {
                await stages.HandshakeAsync(token => client.AuthenticateAsync(credentials, token),
                    cancellationToken).ConfigureAwait(false);
            }

            stage = "send";
            var format = FormatOptions.Default.Clone();
            // RFC 6531: SMTPUTF8 is asked for when the client gave it.
            format.International = transaction.Envelope.SmtpUtf8;
            var reply = "";
            await stages.TransactionAsync(async token => reply = await client.SendAsync(format,
                transaction.Message, transaction.Sender, [.. mailboxes.Keys], token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            foreach (var (mailbox, recipient) in mailboxes)
            {
                outcomes.Add(client.ReplyTo(mailbox) is { } refused && (int)refused.StatusCode >= 300
                    ? Outcome(recipient, (int)refused.StatusCode, refused.Response, remote)
                    : new RecipientOutcome(recipient, OutcomeKind.Delivered, "250 " + reply, remote,
                        NotifyPassedOn: client.Capabilities.HasFlag(SmtpCapabilities.Dsn)));
            }

            end = TransactionEnd.Clean;
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
                    ? Outcome(recipient, (int)rcpt.StatusCode, rcpt.Response, remote)
                    : Outcome(recipient, (int)e.StatusCode, e.Message, remote));
            }

            // MailKit ends a refused transaction with RSET (RFC 5321 4.1.1.5) and stays connected
            // only when the server took it. A 421 says the server is closing the channel
            // (RFC 5321 3.8); as the first reply on a reused connection it is the server's idle
            // timeout, not an answer to this message.
            end = e.StatusCode == SmtpStatusCode.ServiceNotAvailable
                ? client.SenderAnswered ? TransactionEnd.Broken : TransactionEnd.Unanswered
                : client.IsConnected ? TransactionEnd.Clean : TransactionEnd.Broken;
        }
        catch (Exception e) when (IsUnreachable(e, cancellationToken) || e is ServiceNotConnectedException
            || e is AuthenticationException or System.Security.Authentication.AuthenticationException
                or ServiceNotAuthenticatedException or NotSupportedException)
        {
            // RFC 5321 4.5.4.1: a connection that breaks is a temporary failure. A refused login
            // is one too, as in Postfix: the operator fixes the credentials and the mail is still
            // there.
            var reply = $"451 4.4.1 {stage} to {Label(target, endpoint)} failed: {Describe(e)}";
            outcomes.AddRange(mailboxes.Values.Select(recipient =>
                new RecipientOutcome(recipient, OutcomeKind.Deferred, reply, remote)));
            end = stage == "send" && !client.SenderAnswered && IsLost(e)
                ? TransactionEnd.Unanswered
                : TransactionEnd.Broken;
        }

        return (outcomes, end);
    }

    private RelayClient NewClient(SmtpTarget target)
    {
        var client = new RelayClient(new NullProtocolLogger())
        {
            LocalDomain = hostname,
            Timeout = (int)options.SmtpTimeout.TotalMilliseconds,
        };
        if (!target.VerifyCertificate)
        {
            // RFC 7435: opportunistic TLS encrypts whatever the certificate; refusing a
            // self-signed one would only send the message in plain text or not at all.
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        }

        return client;
    }

    private async Task OpenAsync(
        SmtpConnection connection,
        SmtpTarget target,
        SmtpEndpoint endpoint,
        CancellationToken cancellationToken)
    {
        var client = NewClient(target);
        // No Nagle delay: SMTP is a dialogue of short lines, and a command held back until the
        // server acknowledges the last one costs each transaction the peer's delayed-ACK time.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // From here on the pool closes both, whatever happens.
        connection.Attach(client, socket);

        // The address comes from MailMesh's own DNS lookup when there is one; MailKit is handed
        // the connected socket and never resolves a name itself. Only a new connection goes
        // through the breaker: a pooled one says nothing about whether the server takes new ones.
        await breakers.ConnectAsync(endpoint, async token =>
        {
            if (endpoint.Address is { } address)
            {
                await socket.ConnectAsync(address, endpoint.Port, token).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(endpoint.Host, endpoint.Port, token).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);

        await stages.HandshakeAsync(token => client.ConnectAsync(socket, endpoint.Host, endpoint.Port,
            target.Security, token), cancellationToken).ConfigureAwait(false);
    }

    // Not reached, or lost on the way: worth another server or another attempt. A cancellation
    // of the attempt itself (shutdown, the attempt's deadline) is not one of these.
    private static bool IsUnreachable(Exception e, CancellationToken cancellationToken) =>
        DestinationBreakers.IsConnectionFailure(e)
        || e is BrokenCircuitException or SslHandshakeException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    // The server is gone: it closed the connection, or MailKit found it closed.
    private static bool IsLost(Exception e) =>
        e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException;

    private static string Remote(SmtpTarget target, SmtpEndpoint endpoint) =>
        target.NamesEndpoint ? endpoint.Host : target.Name;

    private static string Label(SmtpTarget target, SmtpEndpoint endpoint) =>
        target.NamesEndpoint ? endpoint.Label : target.Name;

    private static RecipientOutcome Outcome(SpoolRecipient recipient, int code, string text, string remote) =>
        new(recipient, RecipientOutcome.KindOf(code), Reply(code, text), remote);

    private static string Reply(int code, string text) =>
        code.ToString(CultureInfo.InvariantCulture) + " " + text.ReplaceLineEndings(" ");

    private string Describe(Exception e) => e switch
    {
        SocketException socket => socket.SocketErrorCode.ToString(),
        TimeoutRejectedException => $"no connection within {options.ConnectTimeout.TotalSeconds:0.#} s",
        BrokenCircuitException broken => "skipped: it failed to connect " +
            $"{options.CircuitBreakerFailures} times in a row; tried again after " +
            $"{(broken.RetryAfter ?? options.CircuitBreakerDuration).TotalSeconds:0} s",
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

    [LoggerMessage(EventId = 644, Level = LogLevel.Debug,
        Message = "{QueueId}: the connection to {Remote}, reused after {Transactions} transactions, was "
            + "closed by the server before it answered; sending on a new connection")]
    private static partial void LogReusedLost(ILogger logger, string queueId, string remote,
        int transactions);
}
