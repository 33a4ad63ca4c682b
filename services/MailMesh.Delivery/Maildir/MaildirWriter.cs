using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailMesh.Delivery.Routing;
using MailMesh.Spool;

namespace MailMesh.Delivery.Maildir;

/// <summary>
/// Delivers into Maildirs (https://cr.yp.to/proto/maildir.html): the message is written under
/// <c>tmp/</c>, flushed to disk, renamed into <c>new/</c> and the directory flushed, so a reader
/// never sees half a message and an acknowledged delivery survives a crash. Only
/// <c>Return-Path:</c> (RFC 5321 4.4) and <c>Delivered-To:</c> are added before the spooled bytes.
/// </summary>
internal sealed class MaildirWriter(TimeProvider time, string hostname)
{
    private readonly string _hostname = hostname.Replace("/", "\\057", StringComparison.Ordinal)
        .Replace(":", "\\072", StringComparison.Ordinal);

    public async Task<RecipientOutcome> DeliverAsync(
        MaildirRoute route,
        SpoolEnvelope envelope,
        SpoolRecipient recipient,
        byte[] content,
        CancellationToken cancellationToken)
    {
        string mailbox;
        try
        {
            mailbox = MailboxPath.For(route.Root, recipient.Address);
        }
        catch (InvalidOperationException e)
        {
            return new RecipientOutcome(recipient, OutcomeKind.Failed, "550 5.1.3 " + e.Message, route.Name);
        }

        try
        {
            var name = UniqueName();
            var tmp = Path.Combine(mailbox, "tmp");
            var incoming = Path.Combine(mailbox, "new");
            Directory.CreateDirectory(tmp);
            Directory.CreateDirectory(incoming);
            Directory.CreateDirectory(Path.Combine(mailbox, "cur"));

            var staged = Path.Combine(tmp, name);
            var trace = Encoding.UTF8.GetBytes(
                $"Return-Path: <{envelope.ReversePath}>\r\nDelivered-To: {recipient.Address}\r\n");
            var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await file.WriteAsync(trace, cancellationToken).ConfigureAwait(false);
                await file.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(staged, Path.Combine(incoming, name));
            DirectorySync.Flush(incoming);
            return new RecipientOutcome(recipient, OutcomeKind.Delivered, "250 2.0.0 delivered to Maildir",
                mailbox);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk or a permission fixed by the operator lets a later attempt succeed.
            return new RecipientOutcome(recipient, OutcomeKind.Deferred,
                "451 4.3.0 cannot write the Maildir: " + e.Message, mailbox);
        }
    }

    private string UniqueName()
    {
        var now = time.GetUtcNow();
        var microseconds = now.Ticks / 10 % 1_000_000;
        var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        return string.Create(CultureInfo.InvariantCulture,
            $"{now.ToUnixTimeSeconds()}.M{microseconds}P{Environment.ProcessId}R{random}.{_hostname}");
    }
}
