using System.Text;
using MailMesh.Delivery.Notices;
using MailMesh.Delivery.Tests.Support;
using MailMesh.Spool;

namespace MailMesh.Delivery.Tests;

public sealed class NoticeBuilderTests
{
    private static readonly DateTimeOffset Arrived = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Build_ExpiredRecipient_ActionFailedWithStatus447AndTheLastReply()
    {
        var envelope = Envelope("alice@sender.test", new SpoolRecipient("late@example.net"));
        var expired = Recorded(envelope.Recipients[0], OutcomeKind.Expired,
            "451 4.4.1 connect to smtp://mx.example.net:25 failed: ConnectionRefused");

        var notice = Parse(new NoticeBuilder("relay.mailmesh.test", 1024 * 1024)
            .Build(NoticeKind.Failure, envelope, Original(), [expired], "01NOTICE00000000", Arrived.AddDays(5)));

        var fields = notice.For("late@example.net");
        Assert.Equal("failed", fields["Action"]);
        Assert.Equal("4.4.7", fields["Status"]);
        Assert.Equal("smtp; 451 4.4.1 connect to smtp://mx.example.net:25 failed: ConnectionRefused",
            fields["Diagnostic-Code"]);
        Assert.Contains("lifetime ran out", notice.Explanation, StringComparison.Ordinal);
        Assert.Equal("<01NOTICE00000000@relay.mailmesh.test>", "<" + notice.Message.MessageId + ">");
    }

    [Fact]
    public void Build_ReplyWithoutEnhancedCode_StatusFromTheBasicCode()
    {
        var envelope = Envelope("alice@sender.test", new SpoolRecipient("a@example.net"),
            new SpoolRecipient("b@example.net"));

        var notice = Parse(new NoticeBuilder("relay.mailmesh.test", 1024 * 1024).Build(NoticeKind.Failure, envelope,
            Original(),
            [Recorded(envelope.Recipients[0], OutcomeKind.Failed, "554 no thanks"),
                Recorded(envelope.Recipients[1], OutcomeKind.Failed, "550 4.1.1 class does not match")],
            "01NOTICE00000000", Arrived));

        Assert.Equal("5.0.0", notice.For("a@example.net")["Status"]);
        Assert.Equal("5.0.0", notice.For("b@example.net")["Status"]);
    }

    [Fact]
    public void Build_Utf8Recipient_FinalRecipientIsUtf8TypeInAsciiForm()
    {
        var envelope = Envelope("alice@sender.test", new SpoolRecipient("jörg+x@example.net")) with
        {
            SmtpUtf8 = true,
        };

        var bytes = new NoticeBuilder("relay.mailmesh.test", 1024 * 1024).Build(NoticeKind.Failure, envelope,
            Original(), [Recorded(envelope.Recipients[0], OutcomeKind.Failed, "550 5.1.1 unknown")],
            "01NOTICE00000000", Arrived);

        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("Final-Recipient: utf-8; j\\x{F6}rg\\x{2B}x@example.net\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Content-Type: message/global\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_OriginalOverTheLimit_ReturnsTheHeaderSectionOnly()
    {
        var envelope = Envelope("alice@sender.test", new SpoolRecipient("gone@example.net"));
        var original = Original();

        var notice = Parse(new NoticeBuilder("relay.mailmesh.test", original.Length - 1).Build(NoticeKind.Failure,
            envelope, original, [Recorded(envelope.Recipients[0], OutcomeKind.Failed, "550 5.1.1 unknown")],
            "01NOTICE00000000", Arrived));

        Assert.Equal("text/rfc822-headers", notice.Returned.ContentType.MimeType);
    }

    [Theory]
    [InlineData("plain-id", "plain-id")]
    [InlineData("a+b=c d", "a+2Bb+3Dc+20d")]
    [InlineData("ü", "+C3+BC")]
    public void XtextEncode_EncodesPlusEqualsAndNonPrintables(string value, string encoded) =>
        Assert.Equal(encoded, Xtext.Encode(value));

    private static SpoolEnvelope Envelope(string sender, params SpoolRecipient[] recipients) =>
        new("01ORIGINAL000000", sender, recipients, Arrived, 3, "127.0.0.1", "client.test", "7BIT", 1, 1);

    private static RecordedOutcome Recorded(SpoolRecipient recipient, OutcomeKind kind, string reply) =>
        new(new RecipientOutcome(recipient, kind, reply, "smtp://127.0.0.1:25"), "smtp://127.0.0.1:25", "127.0.0.1");

    private static byte[] Original() => TestMessages.Plain("alice@sender.test", "someone@example.net", "original");

    private static Notice Parse(byte[] bytes)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, bytes);
            return Notice.Load(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
