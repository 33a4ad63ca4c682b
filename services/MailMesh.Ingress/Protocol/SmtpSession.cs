using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using MailMesh.Ingress.Policy;
using MailMesh.Ingress.Spooling;
using MailMesh.Spool;
using Microsoft.Extensions.Logging;

namespace MailMesh.Ingress.Protocol;

/// <summary>
/// One SMTP connection, from greeting to close (RFC 5321, with PIPELINING, SIZE, 8BITMIME and
/// ENHANCEDSTATUSCODES). Replies are buffered while pipelined commands remain in the input and
/// flushed before the session waits for more (RFC 2920 section 3.1).
/// </summary>
internal sealed partial class SmtpSession
{
    private const string ImplementationName = "MailMesh";

    /// <summary>RFC 4954 4: an AUTH exchange line may be up to 12288 octets.</summary>
    private const int MaxAuthLine = 12288;

    private Stream _transport;
    private PipeReader _input;
    private PipeWriter _output;
    private readonly IPAddress _client;
    private readonly SessionSettings _settings;
    private readonly IngressOptions _options;
    private readonly ILogger _logger;
    private readonly bool _trusted;
    private readonly byte[] _line;
    private readonly List<SpoolRecipient> _recipients = [];
    private readonly HashSet<string> _recipientSet = new(StringComparer.OrdinalIgnoreCase);

    private SessionState _state = SessionState.Connected;
    private bool _tls;
    private string? _user;
    private bool _extended;
    private string _helo = "";
    private string? _queueId;
    private string _reversePath = "";
    private string _body = "";
    private bool _smtpUtf8;
    private string? _envelopeId;
    private string? _return;
    private DateTimeOffset _arrivedAt;
    private (MessageBuffer Buffer, MessageReceiver Receiver)? _chunks;
    private SmtpReply? _chunkFailure;
    private long _declaredSize;
    private int _refusedRecipients;
    private int _errors;
    private DateTimeOffset _transactionStarted;
    private int _lineLength;
    private bool _needInput;
    private bool _unflushed;
    private CancellationTokenSource? _timeout;

    public SmtpSession(Stream transport, IPAddress client, SessionSettings settings)
    {
        _transport = transport;
        (_input, _output) = CreatePipes(transport);
        _client = client;
        _settings = settings;
        _options = settings.Options;
        _logger = settings.Logger;
        _trusted = settings.Relay.IsTrusted(client);
        // Rented: a connection that sends one message must not cost a fresh 12 KiB array.
        _line = ArrayPool<byte>.Shared.Rent(Math.Max(_options.MaxCommandLine, MaxAuthLine));
    }

    private enum LineStatus
    {
        Line,
        TooLong,
        BareNewline,
        Closed,
    }

    private bool AuthOffered => !_settings.Users.IsEmpty && (_tls || _options.AllowPlaintextAuth);

    /// <summary>Closes the pipes and the connection's stream (TLS included).</summary>
    public async ValueTask CloseAsync()
    {
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);

        // The line may have held an AUTH exchange: clear it before the pool hands it on.
        ArrayPool<byte>.Shared.Return(_line, clearArray: true);
    }

    private static (PipeReader Input, PipeWriter Output) CreatePipes(Stream transport) => (
        PipeReader.Create(transport, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true)),
        PipeWriter.Create(transport, new StreamPipeWriterOptions(leaveOpen: true)));

    /// <summary>Runs the session until QUIT, a fatal error, a timeout, a hang-up or shutdown.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _timeout = timeout;
        IngressTelemetry.Sessions.Add(1);
        IngressTelemetry.ActiveSessions.Add(1);
        try
        {
            Write(new SmtpReply(220, null, $"{_settings.Hostname} ESMTP {ImplementationName}"));
            while (await NextCommandAsync(stopping).ConfigureAwait(false))
            {
                if (_errors >= _options.MaxErrors)
                {
                    Write(new SmtpReply(421, "4.7.0", $"{_settings.Hostname} Error: too many errors"));
                    LogTooManyErrors(_logger, _client);
                    break;
                }
            }

            await FlushAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await TryFinalReplyAsync(new SmtpReply(421, "4.3.2",
                $"{_settings.Hostname} Service shutting down, try again later")).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogTimeout(_logger, _client, _state);
            await TryFinalReplyAsync(new SmtpReply(421, "4.4.2",
                $"{_settings.Hostname} Error: timeout exceeded")).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            LogConnectionLost(_logger, _client, e.Message);
        }
        finally
        {
            IngressTelemetry.ActiveSessions.Add(-1);
            _timeout = null;

            // A BDAT transaction cut short holds memory of the shared budget: give it back.
            ResetTransaction();
        }
    }

    /// <summary>Reads and answers one command; false when the session is over.</summary>
    private async Task<bool> NextCommandAsync(CancellationToken stopping)
    {
        var status = await ReadCommandLineAsync(_options.MaxCommandLine, stopping).ConfigureAwait(false);
        switch (status)
        {
            case LineStatus.Closed:
                return false;
            case LineStatus.BareNewline:
                LogBareNewline(_logger, _client, "command");
                Write(new SmtpReply(500, "5.5.2",
                    "Syntax error: bare CR or LF in a command; lines must end with CRLF"));
                return false;
            case LineStatus.TooLong:
                Refuse(new SmtpReply(500, "5.5.2",
                    $"Syntax error: command line longer than {_options.MaxCommandLine} octets"));
                return true;
        }

        var line = _line.AsSpan(0, _lineLength);
        var verb = CommandTable.ParseVerb(line, out var arguments);
        LogCommand(_logger, _client, verb);
        if (verb != SmtpVerb.Bdat && CommandTable.Check(verb, _state) is { } outOfOrder)
        {
            if (verb == SmtpVerb.Data && _state == SessionState.Mail && _refusedRecipients > 0)
            {
                // RFC 2920 3.1: a pipelined DATA after only refused RCPTs gets 554, not 503.
                outOfOrder = new SmtpReply(554, "5.5.1", "Error: no valid recipients");
            }

            Refuse(outOfOrder);
            return true;
        }

        switch (verb)
        {
            case SmtpVerb.Ehlo:
            case SmtpVerb.Helo:
                Hello(verb == SmtpVerb.Ehlo, arguments);
                return true;
            case SmtpVerb.Mail:
                Mail(arguments);
                return true;
            case SmtpVerb.Rcpt:
                Recipient(arguments);
                return true;
            case SmtpVerb.Data:
                if (!arguments.IsEmpty)
                {
                    Refuse(new SmtpReply(501, "5.5.4", "Syntax: DATA"));
                    return true;
                }

                if (_chunks is not null || _chunkFailure is not null)
                {
                    // RFC 3030 2: one transaction uses DATA or BDAT, never both.
                    Refuse(new SmtpReply(503, "5.5.1", "Error: DATA after BDAT in one transaction"));
                    return true;
                }

                return await DataAsync(stopping).ConfigureAwait(false);
            case SmtpVerb.Bdat:
                return await ChunkAsync(arguments.ToArray(), stopping).ConfigureAwait(false);
            case SmtpVerb.Rset:
                if (!arguments.IsEmpty)
                {
                    Refuse(new SmtpReply(501, "5.5.4", "Syntax: RSET"));
                    return true;
                }

                ResetTransaction();
                Write(SmtpReply.Ok());
                return true;
            case SmtpVerb.Noop:
                Write(SmtpReply.Ok());
                return true;
            case SmtpVerb.Quit:
                Write(new SmtpReply(221, "2.0.0", "Bye"));
                return false;
            case SmtpVerb.Vrfy:
                // RFC 5321 3.5.3: 252 when the address is not verified but mail to it is tried.
                Write(new SmtpReply(252, "2.5.0",
                    "Not verified; send mail and delivery will be attempted"));
                return true;
            case SmtpVerb.Help:
                Write(new SmtpReply(214, "2.0.0",
                    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP"));
                return true;
            case SmtpVerb.StartTls:
                return await StartTlsAsync(arguments.IsEmpty, stopping).ConfigureAwait(false);
            case SmtpVerb.Auth:
                return await AuthenticateAsync(arguments.ToArray(), stopping).ConfigureAwait(false);
            case SmtpVerb.NotImplemented:
                Refuse(new SmtpReply(502, "5.5.1", "Error: command not implemented"));
                return true;
            default:
                Refuse(new SmtpReply(500, "5.5.1", "Error: command not recognized"));
                return true;
        }
    }

    private void Hello(bool extended, ReadOnlySpan<byte> arguments)
    {
        var name = arguments.Trim((byte)' ');
        if (name.IsEmpty || name.IndexOf((byte)' ') >= 0
            || name.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
        {
            Refuse(new SmtpReply(501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname"));
            return;
        }

        // RFC 5321 4.1.4: EHLO or HELO in a transaction clears it.
        ResetTransaction();
        _extended = extended;
        _helo = Encoding.ASCII.GetString(name);
        _state = SessionState.Ready;
        if (!extended)
        {
            Write(new SmtpReply(250, null, _settings.Hostname));
            return;
        }

        var keywords = new List<string>
        {
            _settings.Hostname,
            "PIPELINING",
            "SIZE " + _options.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
            "8BITMIME",
            "SMTPUTF8",
            "DSN",
            "CHUNKING",
            "ENHANCEDSTATUSCODES",
        };
        if (_settings.Certificates is not null && !_tls)
        {
            keywords.Add("STARTTLS");
        }

        if (AuthOffered)
        {
            keywords.Add("AUTH PLAIN LOGIN");
        }

        Write(new SmtpReply(250, null, string.Join('\n', keywords)));
    }

    private void Mail(ReadOnlySpan<byte> arguments)
    {
        if (!TakePrefix(ref arguments, "FROM:"u8))
        {
            Refuse(new SmtpReply(501, "5.5.4", "Syntax: MAIL FROM:<address>"));
            return;
        }

        var error = PathParser.Parse(arguments, out var mailbox, out var consumed);
        if (error == PathError.None && mailbox is { Domain.Length: 0 })
        {
            error = PathError.Syntax;
        }

        if (error != PathError.None)
        {
            Refuse(PathRefusal(error, "5.1.7", "sender"));
            return;
        }

        if (_settings.RequireAuth && _user is null)
        {
            // RFC 6409 4.3 and RFC 4954 6: the submission port takes mail from users only.
            Refuse(new SmtpReply(530, "5.7.0", "Authentication required"));
            return;
        }

        var request = new MailParameters();
        if (ReadMailParameters(arguments[consumed..], ref request) is { } refusal)
        {
            Refuse(refusal);
            return;
        }

        if (mailbox is { IsAscii: false } && !request.SmtpUtf8)
        {
            Refuse(PathRefusal(PathError.NonAscii, "5.6.7", "sender"));
            return;
        }

        if (request.Size > _options.MaxMessageSize)
        {
            Refuse(new SmtpReply(552, "5.3.4", "Message size exceeds fixed limit of "
                + _options.MaxMessageSize.ToString(CultureInfo.InvariantCulture) + " octets"));
            return;
        }

        _reversePath = mailbox?.ToString() ?? "";
        _body = request.Body;
        _declaredSize = request.Size;
        _smtpUtf8 = request.SmtpUtf8;
        _envelopeId = request.EnvelopeId;
        _return = request.Return;
        _queueId = _settings.QueueIds.Next();
        _transactionStarted = _settings.Time.GetUtcNow();
        _state = SessionState.Mail;
        Write(new SmtpReply(250, "2.1.0", "Ok"));
    }

    private struct MailParameters
    {
        public long Size;
        public string Body;
        public bool SmtpUtf8;
        public string? EnvelopeId;
        public string? Return;
    }

    /// <summary>The parameters of MAIL (RFC 1870, 6152, 6531, 3461, 4954); null when all are good.</summary>
    private SmtpReply? ReadMailParameters(ReadOnlySpan<byte> text, ref MailParameters request)
    {
        request.Body = "";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyword, value) in new ParameterReader(text))
        {
            if (keyword.IsEmpty)
            {
                return new SmtpReply(501, "5.5.4", "Syntax error in MAIL parameters");
            }

            var name = Encoding.ASCII.GetString(keyword).ToUpperInvariant();
            if (!_extended || !seen.Add(name))
            {
                return _extended
                    ? new SmtpReply(501, "5.5.4", $"Error: {name} given twice")
                    : new SmtpReply(555, "5.5.4", "Error: MAIL parameters need EHLO");
            }

            switch (name)
            {
                case "SIZE":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out request.Size))
                    {
                        return new SmtpReply(501, "5.5.4", "Syntax: SIZE=<octets>");
                    }

                    break;
                case "BODY":
                    if (Ascii.EqualsIgnoreCase(value, "7BIT"u8))
                    {
                        request.Body = "7BIT";
                    }
                    else if (Ascii.EqualsIgnoreCase(value, "8BITMIME"u8))
                    {
                        request.Body = "8BITMIME";
                    }
                    else
                    {
                        // BINARYMIME (RFC 3030) is not offered.
                        return new SmtpReply(501, "5.5.4", "Syntax: BODY=7BIT or BODY=8BITMIME");
                    }

                    break;
                case "SMTPUTF8":
                    if (!value.IsEmpty)
                    {
                        return new SmtpReply(501, "5.5.4", "Syntax: SMTPUTF8 takes no value");
                    }

                    request.SmtpUtf8 = true;
                    break;
                case "RET":
                    if (Ascii.EqualsIgnoreCase(value, "FULL"u8) || Ascii.EqualsIgnoreCase(value, "HDRS"u8))
                    {
                        request.Return = Encoding.ASCII.GetString(value).ToUpperInvariant();
                        break;
                    }

                    return new SmtpReply(501, "5.5.4", "Syntax: RET=FULL or RET=HDRS");
                case "ENVID":
                    // RFC 3461 4.4: xtext, at most 100 characters.
                    request.EnvelopeId = Xtext.Decode(value, allowUtf8: false);
                    if (request.EnvelopeId is null || request.EnvelopeId.Length is 0 or > 100)
                    {
                        return new SmtpReply(501, "5.5.4", "Syntax: ENVID=<xtext of 1 to 100 characters>");
                    }

                    break;
                case "AUTH" when AuthOffered:
                    // RFC 4954 5: the identity a previous hop authenticated. Trust comes from this
                    // session's own AUTH, so the value is checked for syntax and not used.
                    if (Xtext.Decode(value, allowUtf8: true) is not { Length: > 0 })
                    {
                        return new SmtpReply(501, "5.5.4", "Syntax: AUTH=<xtext mailbox> or AUTH=<>");
                    }

                    break;
                default:
                    return new SmtpReply(555, "5.5.4", $"Error: MAIL parameter {name} not recognized");
            }
        }

        return null;
    }

    private void Recipient(ReadOnlySpan<byte> arguments)
    {
        if (!TakePrefix(ref arguments, "TO:"u8))
        {
            RefuseRecipient(new SmtpReply(501, "5.5.4", "Syntax: RCPT TO:<address>"));
            return;
        }

        var error = PathParser.Parse(arguments, out var mailbox, out var consumed);
        if (error == PathError.None && mailbox is null)
        {
            error = PathError.Syntax;
        }

        if (error == PathError.None && !mailbox!.IsAscii && !_smtpUtf8)
        {
            error = PathError.NonAscii;
        }

        if (error != PathError.None)
        {
            RefuseRecipient(PathRefusal(error, "5.1.3", "recipient"));
            return;
        }

        string? notify = null;
        string? original = null;
        if (ReadRecipientParameters(arguments[consumed..], ref notify, ref original) is { } refusal)
        {
            RefuseRecipient(refusal);
            return;
        }

        var address = mailbox!.ToString();
        if (!MayReceive(mailbox))
        {
            LogRelayDenied(_logger, _queueId, _client, address);
            RefuseRecipient(new SmtpReply(554, "5.7.1", $"<{address}>: Relay access denied"));
            return;
        }

        if (_recipientSet.Count >= _options.MaxRecipients && !_recipientSet.Contains(address))
        {
            RefuseRecipient(new SmtpReply(452, "4.5.3", "Error: too many recipients"));
            return;
        }

        if (_recipientSet.Add(address))
        {
            _recipients.Add(new SpoolRecipient(address, notify, original));
        }

        _state = SessionState.Recipients;
        Write(new SmtpReply(250, "2.1.5", "Ok"));
    }

    /// <summary>The DSN parameters of RCPT (RFC 3461 4.1, 4.2); null when all are good.</summary>
    private SmtpReply? ReadRecipientParameters(ReadOnlySpan<byte> text, ref string? notify, ref string? original)
    {
        foreach (var (keyword, value) in new ParameterReader(text))
        {
            if (keyword.IsEmpty)
            {
                return new SmtpReply(501, "5.5.4", "Syntax error in RCPT parameters");
            }

            if (_extended && Ascii.EqualsIgnoreCase(keyword, "NOTIFY"u8))
            {
                if (notify is not null)
                {
                    return new SmtpReply(501, "5.5.4", "Error: NOTIFY given twice");
                }

                notify = ReadNotify(value);
                if (notify is null)
                {
                    return new SmtpReply(501, "5.5.4",
                        "Syntax: NOTIFY=NEVER or NOTIFY= one or more of SUCCESS,FAILURE,DELAY");
                }
            }
            else if (_extended && Ascii.EqualsIgnoreCase(keyword, "ORCPT"u8))
            {
                if (original is not null)
                {
                    return new SmtpReply(501, "5.5.4", "Error: ORCPT given twice");
                }

                original = ReadOriginalRecipient(value, _smtpUtf8);
                if (original is null)
                {
                    return new SmtpReply(501, "5.5.4", "Syntax: ORCPT=<address type>;<xtext address>");
                }
            }
            else
            {
                return new SmtpReply(555, "5.5.4", "Error: RCPT parameter not recognized");
            }
        }

        return null;
    }

    /// <summary>NEVER alone, or SUCCESS, FAILURE and DELAY once each in any order; upper case.</summary>
    private static string? ReadNotify(ReadOnlySpan<byte> value)
    {
        var words = Encoding.ASCII.GetString(value).ToUpperInvariant().Split(',');
        if (words is ["NEVER"])
        {
            return "NEVER";
        }

        var known = new[] { "SUCCESS", "FAILURE", "DELAY" };
        if (words.Any(word => !known.Contains(word)) || words.Distinct().Count() != words.Length)
        {
            return null;
        }

        return string.Join(',', words);
    }

    /// <summary>"addr-type;xtext" decoded, e.g. "rfc822;user@example.com"; null when malformed.</summary>
    private static string? ReadOriginalRecipient(ReadOnlySpan<byte> value, bool smtpUtf8)
    {
        var semicolon = value.IndexOf((byte)';');
        if (semicolon <= 0)
        {
            return null;
        }

        var type = value[..semicolon];
        foreach (var b in type)
        {
            if (!char.IsAsciiLetterOrDigit((char)b) && b != (byte)'-')
            {
                return null;
            }
        }

        // RFC 6533: a "utf-8" address may carry UTF-8 as it is, and only with SMTPUTF8.
        var utf8 = smtpUtf8 && Ascii.EqualsIgnoreCase(type, "utf-8"u8);
        var address = Xtext.Decode(value[(semicolon + 1)..], utf8);
        return string.IsNullOrEmpty(address)
            ? null
            : Encoding.ASCII.GetString(type).ToLowerInvariant() + ";" + address;
    }

    /// <summary>
    /// Relay control, as Postfix's reject_unauth_destination: an accepted domain with no routing
    /// in the local part takes mail from anyone; anything else needs a trusted client.
    /// RFC 5321 4.5.1: &lt;Postmaster&gt; is always accepted.
    /// </summary>
    private bool MayReceive(Mailbox mailbox)
    {
        if (mailbox.Domain.Length == 0)
        {
            return true;
        }

        if (_trusted || _user is not null)
        {
            return true;
        }

        return !mailbox.IsAddressLiteral
            && !mailbox.HasRoutingInLocalPart
            && _settings.Relay.IsAcceptedDomain(mailbox.AsciiDomain);
    }

    private static SmtpReply PathRefusal(PathError error, string status, string role) => error switch
    {
        PathError.TooLong => new SmtpReply(501, status, "Path too long: at most 256 octets"),
        // RFC 6531 3.7.4.1: an address that is not ASCII needs SMTPUTF8, which is not offered.
        PathError.NonAscii => new SmtpReply(553, "5.6.7",
            $"Non-ASCII {role} address needs SMTPUTF8, which is not supported"),
        _ => new SmtpReply(501, status, $"Bad {role} address syntax"),
    };

    private async Task<bool> DataAsync(CancellationToken stopping)
    {
        var (buffer, receiver) = StartMessage();
        try
        {
            Write(new SmtpReply(354, null, "End data with <CR><LF>.<CR><LF>"));
            var status = await ReadDataAsync(receiver, stopping).ConfigureAwait(false);
            if (status == DataLineStatus.BareNewline)
            {
                LogBareNewline(_logger, _client, "message content");
                Write(new SmtpReply(554, "5.6.0",
                    "Message refused: bare CR or LF in message content; lines must end with CRLF"));
                return false;
            }

            if (status != DataLineStatus.End)
            {
                return false;
            }

            await FinishMessageAsync(buffer, receiver).ConfigureAwait(false);
            return true;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// BDAT (RFC 3030): reads exactly the announced chunk, whatever else happens, so that chunk
    /// data is never read as commands. A chunk refused (out of sequence, too big) fails the
    /// transaction: the chunks pipelined after it are read and discarded with the same reply.
    /// </summary>
    private async Task<bool> ChunkAsync(byte[] arguments, CancellationToken stopping)
    {
        if (!ParseChunkArguments(arguments, out var size, out var last))
        {
            // Without a size the chunk's end is unknown: nothing after it can be trusted.
            Write(new SmtpReply(501, "5.5.4", "Syntax: BDAT <size> [LAST]; closing the connection"));
            return false;
        }

        var refusal = _chunkFailure ?? CommandTable.Check(SmtpVerb.Bdat, _state);
        if (refusal is null && _state == SessionState.Mail && _refusedRecipients > 0)
        {
            refusal = new SmtpReply(554, "5.5.1", "Error: no valid recipients");
        }

        if (refusal is not null)
        {
            if (!await ReadChunkAsync(size, receiver: null, stopping).ConfigureAwait(false))
            {
                return false;
            }

            var inTransaction = _state is SessionState.Mail or SessionState.Recipients;
            Refuse(refusal.Value);
            if (last || !inTransaction)
            {
                ResetTransaction();
            }
            else
            {
                _chunkFailure = refusal;
            }

            return true;
        }

        if (_chunks is null)
        {
            _chunks = StartMessage();
        }

        var (buffer, receiver) = _chunks.Value;
        if (!await ReadChunkAsync(size, receiver, stopping).ConfigureAwait(false))
        {
            return false;
        }

        if (receiver.TooBig && !last)
        {
            _chunkFailure = new SmtpReply(552, "5.3.4", "Message size exceeds fixed limit of "
                + _options.MaxMessageSize.ToString(CultureInfo.InvariantCulture) + " octets");
            Refuse(_chunkFailure.Value);
            buffer.Clear();
            return true;
        }

        if (!last)
        {
            Write(new SmtpReply(250, "2.0.0",
                $"Ok: {size.ToString(CultureInfo.InvariantCulture)} octets received"));
            return true;
        }

        receiver.EndChunks();
        if (receiver.NormalisedLineEnds > 0)
        {
            LogNormalised(_logger, _queueId!, receiver.NormalisedLineEnds);
        }

        await FinishMessageAsync(buffer, receiver).ConfigureAwait(false);
        return true;
    }

    private static bool ParseChunkArguments(ReadOnlySpan<byte> arguments, out long size, out bool last)
    {
        last = false;
        var space = arguments.IndexOf((byte)' ');
        var number = space < 0 ? arguments : arguments[..space];
        if (number.IsEmpty || number.Length > 18
            || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out size))
        {
            size = 0;
            return false;
        }

        if (space < 0)
        {
            return true;
        }

        last = Ascii.EqualsIgnoreCase(arguments[(space + 1)..], "LAST"u8);
        return last;
    }

    /// <summary>Reads <paramref name="size"/> octets into <paramref name="receiver"/>, or drops them.</summary>
    private async Task<bool> ReadChunkAsync(long size, MessageReceiver? receiver, CancellationToken stopping)
    {
        var remaining = size;
        while (remaining > 0)
        {
            var result = await ReadAsync(_options.DataBlockTimeout, stopping).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.IsEmpty)
            {
                if (result.IsCompleted)
                {
                    return false;
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                _needInput = true;
                continue;
            }

            var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            receiver?.AcceptChunk(take);
            remaining -= take.Length;
            _input.AdvanceTo(take.End);
            if (remaining > 0 && result.IsCompleted)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The buffer and receiver of a new message, MailMesh's Received header first.</summary>
    private (MessageBuffer Buffer, MessageReceiver Receiver) StartMessage()
    {
        _arrivedAt = _settings.Time.GetUtcNow();
        var queueId = _queueId!;
        var arrivedAt = _arrivedAt;
        var buffer = new MessageBuffer(_settings.Budget);
        var receiver = new MessageReceiver(buffer, _options.MaxMessageSize, _options.MaxTextLine);
        if (_declaredSize > 0)
        {
            // The client said how big the message is: take the room at once, not by doubling.
            // Only up to a bound: a declared size is a promise, and clients that declare much
            // and send nothing must not hold the shared budget.
            buffer.Reserve((int)Math.Min(_declaredSize + 4096, 1024 * 1024));
        }

        receiver.AddOwn(Encoding.ASCII.GetBytes(ReceivedHeader(queueId, arrivedAt)));
        if (_trusted)
        {
            receiver.HeadersEnding = () => AddMissingHeaders(receiver, queueId, arrivedAt);
        }

        return (buffer, receiver);
    }

    /// <summary>Judges a complete message, spools it when it passes, answers, ends the transaction.</summary>
    private async Task FinishMessageAsync(MessageBuffer buffer, MessageReceiver receiver)
    {
        var queueId = _queueId!;
        // The span covers the transaction from MAIL; it begins only now, once there is a message
        // to trace, and is current only inside this method, so it never outlives its transaction.
        using var activity = StartTransactionActivity(queueId);
        var reply = Judge(receiver);
        if (reply is null)
        {
            var message = new IncomingMessage(queueId, _reversePath, _recipients.ToArray(), buffer.Memory,
                _arrivedAt, _client.ToString(), _helo, _body, _smtpUtf8, _envelopeId, _return);

            // Not tied to shutdown: a message whose content has arrived is spooled or refused,
            // within the confirm deadline, never abandoned half-published.
            reply = await _settings.Spool.StoreAsync(message, CancellationToken.None).ConfigureAwait(false);
            if (reply.Value.Code == 250)
            {
                LogAccepted(_logger, queueId, receiver.MessageId, _client, _reversePath,
                    _recipients.Count, receiver.Size);
                IngressTelemetry.MessagesAccepted.Add(1);
                IngressTelemetry.BytesAccepted.Add(buffer.Memory.Length);
                IngressTelemetry.RecipientsAccepted.Add(_recipients.Count);
            }
        }
        else
        {
            LogRefusedMessage(_logger, queueId, _client, reply.Value.ToString());
        }

        if (activity is not null)
        {
            activity.SetTag("smtp.reply.code", reply.Value.Code);
            activity.SetTag("messaging.message.body.size", buffer.Memory.Length);
            if (reply.Value.IsError)
            {
                activity.SetStatus(ActivityStatusCode.Error, reply.Value.ToString());
            }
        }

        if (reply.Value.IsError)
        {
            _errors++;
        }

        Write(reply.Value);
        ResetTransaction();
    }

    private Activity? StartTransactionActivity(string queueId)
    {
        var activity = IngressTelemetry.Source.StartActivity(ActivityKind.Server, default(ActivityContext),
            startTime: _transactionStarted, name: "smtp receive");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("mailmesh.queue_id", queueId);
            activity.SetTag("network.protocol.name", "smtp");
            activity.SetTag("network.transport", "tcp");
            activity.SetTag("client.address", _client.ToString());
            activity.SetTag("smtp.helo", _helo);
            activity.SetTag("smtp.recipients.count", _recipients.Count);
        }

        return activity;
    }

    private SmtpReply? Judge(MessageReceiver receiver)
    {
        if (receiver.TooBig)
        {
            return new SmtpReply(552, "5.3.4", "Message size exceeds fixed limit of "
                + _options.MaxMessageSize.ToString(CultureInfo.InvariantCulture) + " octets");
        }

        if (receiver.LineTooLong)
        {
            return new SmtpReply(500, "5.5.2", "Message refused: a text line is longer than "
                + _options.MaxTextLine.ToString(CultureInfo.InvariantCulture) + " octets");
        }

        if (receiver.ReceivedHeaders > _options.MaxReceivedHeaders)
        {
            return new SmtpReply(554, "5.4.6", "Too many Received headers: mail loop detected");
        }

        if (receiver.OutOfMemory)
        {
            return new SmtpReply(452, "4.3.1", "Insufficient system storage, try again later");
        }

        return null;
    }

    private string ReceivedHeader(string queueId, DateTimeOffset arrivedAt)
    {
        // RFC 5321 4.4; "with" names the protocol as RFC 3848 lists them. One recipient is
        // named in "for"; more are not, so they do not learn of each other.
        var header = new StringBuilder(256);
        header.Append("Received: from ").Append(Printable(_helo)).Append(" ([")
            .Append(_client.ToString()).Append("])\r\n\tby ").Append(_settings.Hostname)
            .Append(" (").Append(ImplementationName).Append(") with ").Append(Protocol())
            .Append(" id ").Append(queueId);
        if (_recipients.Count == 1)
        {
            header.Append("\r\n\tfor <").Append(_recipients[0].Address).Append('>');
        }

        header.Append("; ").Append(FormatDate(arrivedAt)).Append("\r\n");
        return header.ToString();
    }

    /// <summary>The "with" protocol name of RFC 3848 and RFC 6531 3.7.3.</summary>
    private string Protocol()
    {
        var name = _smtpUtf8 ? "UTF8SMTP" : _extended ? "ESMTP" : "SMTP";
        var suffix = (_tls ? "S" : "") + (_user is not null ? "A" : "");
        return suffix.Length == 0 || name == "SMTP" ? name : name + suffix;
    }

    private void AddMissingHeaders(MessageReceiver receiver, string queueId, DateTimeOffset arrivedAt)
    {
        // As Postfix's cleanup does for local submissions: a message from a trusted client
        // gets the Message-ID and Date that RFC 5322 3.6 requires when it lacks them.
        if (!receiver.HasMessageId)
        {
            receiver.AddOwn(Encoding.ASCII.GetBytes($"Message-ID: <{queueId}@{_settings.Hostname}>\r\n"));
        }

        if (!receiver.HasDate)
        {
            receiver.AddOwn(Encoding.ASCII.GetBytes($"Date: {FormatDate(arrivedAt)}\r\n"));
        }
    }

    private static string FormatDate(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);

    /// <summary>The HELO name as it may appear in a header: printable, no parentheses, bounded.</summary>
    private static string Printable(string name)
    {
        var text = name.Length > 255 ? name[..255] : name;
        return string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c > ' ' && c < 127 && c != '(' && c != ')' && c != '\\' ? c : '?';
            }
        });
    }

    /// <summary>
    /// STARTTLS (RFC 3207): everything the client sent before the handshake is discarded with
    /// the old pipes, and the session starts again from EHLO (section 4.2).
    /// </summary>
    private async Task<bool> StartTlsAsync(bool bare, CancellationToken stopping)
    {
        if (_settings.Certificates is null)
        {
            Refuse(new SmtpReply(502, "5.5.1", "Error: command not implemented"));
            return true;
        }

        if (!bare)
        {
            Refuse(new SmtpReply(501, "5.5.4", "Syntax: STARTTLS"));
            return true;
        }

        if (_tls)
        {
            Refuse(new SmtpReply(503, "5.5.1", "Error: TLS already active"));
            return true;
        }

        System.Security.Cryptography.X509Certificates.X509Certificate2 certificate;
        try
        {
            certificate = _settings.Certificates.Certificate;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException
            or System.Security.Cryptography.CryptographicException)
        {
            LogTlsUnavailable(_logger, e.Message);
            Refuse(new SmtpReply(454, "4.7.0", "TLS not available due to temporary reason"));
            return true;
        }

        Write(new SmtpReply(220, "2.0.0", "Ready to start TLS"));
        await FlushAsync().ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);

        var tls = new System.Net.Security.SslStream(_transport, leaveInnerStreamOpen: false);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        handshake.CancelAfter(_options.TlsHandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new System.Net.Security.SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12
                    | System.Security.Authentication.SslProtocols.Tls13,
                ClientCertificateRequired = false,
            }, handshake.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException
            || (e is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            LogTlsFailed(_logger, _client, e.Message);
            _transport = tls;
            (_input, _output) = CreatePipes(tls);
            return false;
        }

        _transport = tls;
        (_input, _output) = CreatePipes(tls);
        _needInput = false;
        _tls = true;
        ResetTransaction();
        _state = SessionState.Connected;
        _extended = false;
        _helo = "";
        LogTls(_logger, _client, tls.SslProtocol, tls.NegotiatedCipherSuite);
        return true;
    }

    /// <summary>AUTH PLAIN and LOGIN (RFC 4954, 4616) against the configured users.</summary>
    private async Task<bool> AuthenticateAsync(byte[] arguments, CancellationToken stopping)
    {
        if (!AuthOffered)
        {
            Refuse(_settings.Users.IsEmpty
                ? new SmtpReply(502, "5.5.1", "Error: command not implemented")
                : new SmtpReply(538, "5.7.11", "Encryption required: use STARTTLS first"));
            return true;
        }

        if (_user is not null)
        {
            Refuse(new SmtpReply(503, "5.5.1", "Error: already authenticated"));
            return true;
        }

        if (_settings.AuthFailures.IsBlocked(_client))
        {
            Write(new SmtpReply(421, "4.7.0", $"{_settings.Hostname} Too many failed authentications, "
                + "try again later"));
            return false;
        }

        var text = Encoding.ASCII.GetString(arguments);
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var mechanism = (space < 0 ? text : text[..space]).ToUpperInvariant();
        var initial = space < 0 ? null : text[(space + 1)..];
        string? name;
        string? password;
        switch (mechanism)
        {
            case "PLAIN":
            {
                // RFC 4954 4: "=" is an initial response of zero length.
                var response = initial is null
                    ? await ChallengeAsync("", stopping).ConfigureAwait(false)
                    : Decode(initial == "=" ? "" : initial);
                if (response is null)
                {
                    return _exchangeOpen;
                }

                // RFC 4616 2: authzid NUL authcid NUL passwd; acting for another is not offered.
                var parts = response.Split('\0');
                if (parts.Length != 3 || (parts[0].Length > 0 && parts[0] != parts[1]))
                {
                    (name, password) = (null, null);
                }
                else
                {
                    (name, password) = (parts[1], parts[2]);
                }

                break;
            }

            case "LOGIN":
                name = initial is null
                    ? await ChallengeAsync("VXNlcm5hbWU6", stopping).ConfigureAwait(false)
                    : Decode(initial);
                if (name is null)
                {
                    return _exchangeOpen;
                }

                password = await ChallengeAsync("UGFzc3dvcmQ6", stopping).ConfigureAwait(false);
                if (password is null)
                {
                    return _exchangeOpen;
                }

                break;
            default:
                Refuse(new SmtpReply(504, "5.5.4", "Error: authentication mechanism not supported"));
                return true;
        }

        if (name is not null && password is not null && _settings.Users.Verify(name, password))
        {
            _user = name;
            LogAuthenticated(_logger, _client, name, mechanism);
            Write(new SmtpReply(235, "2.7.0", "Authentication successful"));
            return true;
        }

        LogAuthFailed(_logger, _client, name ?? "", mechanism);
        Refuse(new SmtpReply(535, "5.7.8", "Authentication credentials invalid"));
        if (_settings.AuthFailures.RecordFailure(_client))
        {
            Write(new SmtpReply(421, "4.7.0", $"{_settings.Hostname} Too many failed authentications, "
                + "try again later"));
            return false;
        }

        return true;
    }

    private bool _exchangeOpen;

    /// <summary>
    /// Sends a 334 challenge and reads the answer, decoded. Null when the exchange ended: the
    /// client cancelled it, sent no base64, or the connection must close (<see cref="_exchangeOpen"/>
    /// says whether the session goes on).
    /// </summary>
    private async Task<string?> ChallengeAsync(string challenge, CancellationToken stopping)
    {
        Write(new SmtpReply(334, null, challenge));
        var status = await ReadCommandLineAsync(MaxAuthLine, stopping).ConfigureAwait(false);
        _exchangeOpen = true;
        switch (status)
        {
            case LineStatus.Closed:
                _exchangeOpen = false;
                return null;
            case LineStatus.BareNewline:
                Write(new SmtpReply(500, "5.5.2",
                    "Syntax error: bare CR or LF in a command; lines must end with CRLF"));
                _exchangeOpen = false;
                return null;
            case LineStatus.TooLong:
                Refuse(new SmtpReply(500, "5.5.6", "Authentication exchange line is too long"));
                return null;
        }

        var line = _line.AsSpan(0, _lineLength);
        if (line.SequenceEqual("*"u8))
        {
            Refuse(new SmtpReply(501, "5.0.0", "Authentication cancelled"));
            return null;
        }

        var answer = Encoding.ASCII.GetString(line);

        // The answer may hold a password: it does not stay in the line buffer.
        line.Clear();
        return Decode(answer) ?? RefuseBase64();
    }

    private string? RefuseBase64()
    {
        Refuse(new SmtpReply(501, "5.5.2", "Error: invalid base64 in authentication exchange"));
        return null;
    }

    private string? Decode(string base64)
    {
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var length)
            || !System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(0, length)))
        {
            _exchangeOpen = true;
            return null;
        }

        return Encoding.UTF8.GetString(bytes, 0, length);
    }

    private void ResetTransaction()
    {
        _chunks?.Buffer.Dispose();
        _chunks = null;
        _chunkFailure = null;
        _recipients.Clear();
        _recipientSet.Clear();
        _reversePath = "";
        _body = "";
        _smtpUtf8 = false;
        _envelopeId = null;
        _return = null;
        _declaredSize = 0;
        _queueId = null;
        _refusedRecipients = 0;
        if (_state != SessionState.Connected)
        {
            _state = SessionState.Ready;
        }
    }

    private void RefuseRecipient(SmtpReply reply)
    {
        _refusedRecipients++;
        Refuse(reply);
    }

    private void Refuse(SmtpReply reply)
    {
        _errors++;
        LogRefused(_logger, _queueId, _client, reply.ToString());
        Write(reply);
    }

    private static bool TakePrefix(ref ReadOnlySpan<byte> arguments, ReadOnlySpan<byte> prefix)
    {
        if (arguments.Length < prefix.Length || !Ascii.EqualsIgnoreCase(arguments[..prefix.Length], prefix))
        {
            return false;
        }

        // RFC 5321 wants no space after the colon; so many clients send one that Postfix
        // accepts it, and so does MailMesh.
        arguments = arguments[prefix.Length..].TrimStart((byte)' ');
        return true;
    }

    private async Task<LineStatus> ReadCommandLineAsync(int maxLength, CancellationToken stopping)
    {
        var discarding = false;
        while (true)
        {
            var result = await ReadAsync(_options.CommandTimeout, stopping).ConfigureAwait(false);
            var buffer = result.Buffer;
            var lf = buffer.PositionOf((byte)'\n');
            if (lf is null)
            {
                if (result.IsCompleted)
                {
                    _input.AdvanceTo(buffer.End);
                    return LineStatus.Closed;
                }

                if (buffer.Length <= maxLength)
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                    _needInput = true;
                    continue;
                }

                // Too long already: drop what has come, except a CR that may start the CRLF.
                var drop = EndsWith(buffer, (byte)'\r') ? buffer.Slice(0, buffer.Length - 1) : buffer;
                if (drop.PositionOf((byte)'\r') is not null)
                {
                    return LineStatus.BareNewline;
                }

                discarding = true;
                _input.AdvanceTo(drop.End, buffer.End);
                _needInput = true;
                continue;
            }

            var line = buffer.Slice(0, lf.Value);
            var next = buffer.GetPosition(1, lf.Value);
            if (line.IsEmpty || !EndsWith(line, (byte)'\r'))
            {
                return LineStatus.BareNewline;
            }

            var content = line.Slice(0, line.Length - 1);
            if (content.PositionOf((byte)'\r') is not null)
            {
                return LineStatus.BareNewline;
            }

            // The buffer belongs to the pipe again after AdvanceTo: copy the line out first.
            var tooLong = discarding || line.Length + 1 > maxLength;
            if (!tooLong)
            {
                content.CopyTo(_line);
                _lineLength = (int)content.Length;
            }

            _input.AdvanceTo(next);
            return tooLong ? LineStatus.TooLong : LineStatus.Line;
        }
    }

    private async Task<DataLineStatus?> ReadDataAsync(MessageReceiver receiver, CancellationToken stopping)
    {
        // A line is handed over in parts once this much of it has come without its LF, so a
        // long line never makes the input buffer grow without bound.
        var partialThreshold = Math.Max(_options.MaxTextLine, 8192);
        while (true)
        {
            var result = await ReadAsync(_options.DataBlockTimeout, stopping).ConfigureAwait(false);
            var reader = new SequenceReader<byte>(result.Buffer);
            while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                var status = receiver.AcceptLine(line);
                if (status != DataLineStatus.More)
                {
                    _input.AdvanceTo(reader.Position);
                    return status;
                }
            }

            var rest = reader.UnreadSequence;
            if (rest.Length >= partialThreshold)
            {
                var part = EndsWith(rest, (byte)'\r') ? rest.Slice(0, rest.Length - 1) : rest;
                if (receiver.AcceptPartial(part) == DataLineStatus.BareNewline)
                {
                    return DataLineStatus.BareNewline;
                }

                reader.Advance(part.Length);
            }

            _input.AdvanceTo(reader.Position, result.Buffer.End);
            _needInput = true;
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    private static bool EndsWith(ReadOnlySequence<byte> sequence, byte value) =>
        !sequence.IsEmpty && sequence.Slice(sequence.Length - 1).FirstSpan[0] == value;

    /// <summary>
    /// Returns what input is buffered; waits (flushing replies first) only when all of it has
    /// been examined, so pipelined commands are answered in one write.
    /// </summary>
    private async ValueTask<ReadResult> ReadAsync(TimeSpan timeout, CancellationToken stopping)
    {
        if (!_needInput && _input.TryRead(out var buffered))
        {
            return buffered;
        }

        await FlushAsync().ConfigureAwait(false);
        _needInput = false;
        var limit = _timeout!;
        limit.CancelAfter(timeout);
        var result = await _input.ReadAsync(limit.Token).ConfigureAwait(false);
        if (!limit.TryReset())
        {
            stopping.ThrowIfCancellationRequested();
            throw new OperationCanceledException(limit.Token);
        }

        return result;
    }

    private void Write(SmtpReply reply)
    {
        if (reply.IsError)
        {
            IngressTelemetry.CountRefusal(reply.Code, reply.Status);
        }

        var lines = reply.Text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var separator = i == lines.Length - 1 ? ' ' : '-';
            var text = reply.Status is null
                ? $"{reply.Code}{separator}{lines[i]}\r\n"
                : $"{reply.Code}{separator}{reply.Status} {lines[i]}\r\n";
            var span = _output.GetSpan(text.Length);
            var written = Encoding.ASCII.GetBytes(text, span);
            _output.Advance(written);
        }

        _unflushed = true;
    }

    private async ValueTask FlushAsync()
    {
        if (_unflushed)
        {
            _unflushed = false;
            await _output.FlushAsync().ConfigureAwait(false);
        }
    }

    private async Task TryFinalReplyAsync(SmtpReply reply)
    {
        try
        {
            Write(reply);
            await FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client is gone already.
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information,
        Message = "{QueueId}: accepted message-id={MessageId} client={Client} from=<{ReversePath}> "
            + "recipients={Recipients} size={Size}")]
    private static partial void LogAccepted(ILogger logger, string queueId, string? messageId,
        IPAddress client, string reversePath, int recipients, long size);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "{Client}: {Verb}")]
    private static partial void LogCommand(ILogger logger, IPAddress client, SmtpVerb verb);

    [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "{QueueId}: {Client} refused: {Reply}")]
    private static partial void LogRefused(ILogger logger, string? queueId, IPAddress client, string reply);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information,
        Message = "{QueueId}: message from {Client} refused: {Reply}")]
    private static partial void LogRefusedMessage(
        ILogger logger, string queueId, IPAddress client, string reply);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning,
        Message = "{Client}: bare CR or LF in {Where}; connection closed")]
    private static partial void LogBareNewline(ILogger logger, IPAddress client, string where);

    [LoggerMessage(EventId = 305, Level = LogLevel.Information,
        Message = "{QueueId}: relay denied for {Client} to <{Recipient}>")]
    private static partial void LogRelayDenied(
        ILogger logger, string? queueId, IPAddress client, string recipient);

    [LoggerMessage(EventId = 306, Level = LogLevel.Information,
        Message = "{Client}: timeout in state {State}")]
    private static partial void LogTimeout(ILogger logger, IPAddress client, SessionState state);

    [LoggerMessage(EventId = 307, Level = LogLevel.Information, Message = "{Client}: too many errors")]
    private static partial void LogTooManyErrors(ILogger logger, IPAddress client);

    [LoggerMessage(EventId = 309, Level = LogLevel.Debug,
        Message = "{QueueId}: {Count} bare CR or LF in BDAT content rewritten as CRLF")]
    private static partial void LogNormalised(ILogger logger, string queueId, int count);

    [LoggerMessage(EventId = 310, Level = LogLevel.Information,
        Message = "{Client}: TLS established, {Protocol} {Cipher}")]
    private static partial void LogTls(ILogger logger, IPAddress client,
        System.Security.Authentication.SslProtocols protocol, System.Net.Security.TlsCipherSuite cipher);

    [LoggerMessage(EventId = 311, Level = LogLevel.Information, Message = "{Client}: TLS handshake failed: {Reason}")]
    private static partial void LogTlsFailed(ILogger logger, IPAddress client, string reason);

    [LoggerMessage(EventId = 312, Level = LogLevel.Error, Message = "TLS certificate unavailable: {Reason}")]
    private static partial void LogTlsUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 313, Level = LogLevel.Information,
        Message = "{Client}: authenticated as {User} with {Mechanism}")]
    private static partial void LogAuthenticated(ILogger logger, IPAddress client, string user, string mechanism);

    [LoggerMessage(EventId = 314, Level = LogLevel.Warning,
        Message = "{Client}: authentication failed for '{User}' with {Mechanism}")]
    private static partial void LogAuthFailed(ILogger logger, IPAddress client, string user, string mechanism);

    [LoggerMessage(EventId = 308, Level = LogLevel.Debug, Message = "{Client}: connection lost: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, IPAddress client, string reason);
}
