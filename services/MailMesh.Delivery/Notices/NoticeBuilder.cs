using System.Globalization;
using System.Text;
using MailMesh.Spool;
using MimeKit;
using MimeKit.Utils;

namespace MailMesh.Delivery.Notices;

/// <summary>
/// Writes delivery status notifications (RFC 3464): a multipart/report of a note for people, a
/// message/delivery-status part for programs, and the original message or its header section.
/// </summary>
internal sealed class NoticeBuilder(string hostname, int returnedMessageLimit)
{
    public const string FailureSubject = "Undelivered Mail Returned to Sender";

    public const string DelaySubject = "Delayed Mail (still being retried)";

    public const string SuccessSubject = "Successful Mail Delivery Report";

    /// <summary>The notice for <paramref name="outcomes"/> of one spool message, as bytes to spool.</summary>
    public byte[] Build(
        NoticeKind kind,
        SpoolEnvelope envelope,
        byte[] original,
        IReadOnlyList<RecordedOutcome> outcomes,
        string noticeQueueId,
        DateTimeOffset now)
    {
        var report = new MultipartReport("delivery-status")
        {
            Explanation(kind, envelope, outcomes),
            Status(kind, envelope, outcomes, now),
            Returned(kind, envelope, original),
        };

        var notice = new MimeMessage();
        notice.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + hostname));
        notice.To.Add(Recipient(envelope.ReversePath));
        notice.Subject = kind switch
        {
            NoticeKind.Failure => FailureSubject,
            NoticeKind.Delay => DelaySubject,
            _ => SuccessSubject,
        };
        notice.Date = now;
        notice.MessageId = noticeQueueId + "@" + hostname;
        // RFC 3834: no vacation responder or list should answer a notice.
        notice.Headers.Add("Auto-Submitted", "auto-replied");
        notice.Body = report;

        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.International = envelope.SmtpUtf8;
        using var output = new MemoryStream();
        notice.WriteTo(format, output);
        return output.ToArray();
    }

    private static InternetAddress Recipient(string reversePath)
    {
        try
        {
            return new MailboxAddress(string.Empty, reversePath);
        }
        catch (ParseException)
        {
            // RFC 5321 allows a few local parts RFC 5322 does not; the envelope still routes the notice.
            return new GroupAddress("undisclosed-recipients");
        }
    }

    private TextPart Explanation(
        NoticeKind kind,
        SpoolEnvelope envelope,
        IReadOnlyList<RecordedOutcome> outcomes)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"This is the mail system at {hostname}.\n\n");
        if (kind == NoticeKind.Failure)
        {
            text.Append("Your message could not be delivered to the recipients below, and it will not be\n")
                .Append("tried again for them.\n\n");
        }
        else if (kind == NoticeKind.Success)
        {
            text.Append("Your message was delivered to the recipients below, as you asked to be told.\n")
                .Append("Where it was handed to a server that cannot report further, this is the last\n")
                .Append("word on it.\n\n");
        }
        else
        {
            text.Append("Your message has not been delivered yet to the recipients below. It will be\n")
                .Append("tried again, and you will be told if it is given up; there is no need to send\n")
                .Append("it again.\n\n");
        }

        foreach (var recorded in outcomes)
        {
            var outcome = recorded.Outcome;
            text.Append(CultureInfo.InvariantCulture, $"<{outcome.Recipient.Address}>: ");
            text.Append(outcome.Kind == OutcomeKind.Expired
                ? "not delivered before the message's lifetime ran out; the last reply was: " + outcome.Reply
                : outcome.Reply);
            text.Append(CultureInfo.InvariantCulture, $"\n    (route {recorded.Route})\n");
        }

        var arrived = DateUtils.FormatDate(envelope.ArrivedAt);
        text.Append(CultureInfo.InvariantCulture,
            $"\nThe message arrived on {arrived} with queue id {envelope.QueueId}.\n");
        text.Append(kind == NoticeKind.Failure
            ? "Its delivery report and the message returned are attached.\n"
            : "Its delivery report and header section are attached.\n");
        return new TextPart("plain")
        {
            Text = text.ToString(),
            ContentTransferEncoding = Ascii.IsValid(text.ToString())
                ? ContentEncoding.SevenBit
                : ContentEncoding.QuotedPrintable,
        };
    }

    private MessageDeliveryStatus Status(
        NoticeKind kind,
        SpoolEnvelope envelope,
        IReadOnlyList<RecordedOutcome> outcomes,
        DateTimeOffset now)
    {
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList { { "Reporting-MTA", "dns; " + hostname } };
        if (envelope.EnvelopeId is { } envelopeId)
        {
            perMessage.Add("Original-Envelope-Id", Xtext.Encode(envelopeId));
        }

        perMessage.Add("Arrival-Date", DateUtils.FormatDate(envelope.ArrivedAt));
        status.StatusGroups.Add(perMessage);

        foreach (var recorded in outcomes)
        {
            var outcome = recorded.Outcome;
            var recipient = outcome.Recipient;
            var fields = new HeaderList();
            if (recipient.OriginalRecipient is { } original
                && original.IndexOf(';', StringComparison.Ordinal) is > 0 and var separator)
            {
                // RFC 3461 section 4.2: the address type as given, the address in xtext.
                fields.Add("Original-Recipient",
                    original[..separator].Trim() + ";" + Xtext.Encode(original[(separator + 1)..]));
            }

            fields.Add("Final-Recipient", Ascii.IsValid(recipient.Address)
                ? "rfc822; " + recipient.Address
                : "utf-8; " + Xtext.EncodeUtf8Address(recipient.Address));
            fields.Add("Action", kind switch
            {
                NoticeKind.Failure => "failed",
                NoticeKind.Delay => "delayed",
                // RFC 3464 2.3.3: delivered into a mailbox, or relayed where no DSN goes further.
                _ => recorded.RemoteHost is null ? "delivered" : "relayed",
            });
            fields.Add("Status", kind == NoticeKind.Success ? DsnStatus.From(outcome.Reply, '2')
                : kind == NoticeKind.Delay ? DsnStatus.From(outcome.Reply, '4')
                : outcome.Kind == OutcomeKind.Expired ? DsnStatus.Expired
                : DsnStatus.From(outcome.Reply, '5'));
            if (recorded.RemoteHost is { } host)
            {
                fields.Add("Remote-MTA", "dns; " + host);
            }

            fields.Add("Diagnostic-Code", "smtp; " + outcome.Reply);
            fields.Add("Last-Attempt-Date", DateUtils.FormatDate(now));
            status.StatusGroups.Add(fields);
        }

        return status;
    }

    private MimeEntity Returned(NoticeKind kind, SpoolEnvelope envelope, byte[] original)
    {
        // RFC 3461 section 4.3: RET=HDRS asks for the header section only, and with no RET the
        // choice is the MTA's: the whole message up to a limit, as Postfix does. A delay notice
        // carries only the header section: the message itself is still on its way.
        var whole = kind == NoticeKind.Failure
            && !string.Equals(envelope.Return, "HDRS", StringComparison.OrdinalIgnoreCase)
            && original.Length <= returnedMessageLimit;
        if (whole)
        {
            try
            {
                // RFC 6533: a message with UTF-8 headers travels as message/global.
                return new MessagePart(envelope.SmtpUtf8 ? "global" : "rfc822")
                {
                    Message = MimeMessage.Load(new MemoryStream(original, writable: false)),
                };
            }
            catch (FormatException)
            {
                // Not parseable as a message: its header section is all that can be returned.
            }
        }

        var headers = HeaderSection(original);
        return new MimePart(envelope.SmtpUtf8 ? "message" : "text",
            envelope.SmtpUtf8 ? "global-headers" : "rfc822-headers")
        {
            Content = new MimeContent(new MemoryStream(headers, writable: false)),
            ContentTransferEncoding = headers.AsSpan().ContainsAnyInRange((byte)0x80, (byte)0xFF)
                ? ContentEncoding.EightBit
                : ContentEncoding.SevenBit,
        };
    }

    /// <summary>The original's bytes up to the empty line that ends its header section, included.</summary>
    public static byte[] HeaderSection(byte[] original)
    {
        var end = original.AsSpan().IndexOf("\r\n\r\n"u8);
        return end < 0 ? original : original[..(end + 4)];
    }
}
