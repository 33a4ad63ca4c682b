using MimeKit;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>Reads a delivery status notification as a mail client would, from its Maildir file.</summary>
internal sealed record Notice(MimeMessage Message, MultipartReport Report, HeaderList PerMessage,
    IReadOnlyList<HeaderList> PerRecipient, MimeEntity Returned)
{
    public static Notice Load(string file)
    {
        var message = MimeMessage.Load(file);
        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal(3, report.Count);
        Assert.Equal("text/plain", report[0].ContentType.MimeType);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.True(status.StatusGroups.Count >= 2, "no per-recipient fields");
        // MimeKit reads the blank line after the last group as one more, empty group.
        return new Notice(message, report, status.StatusGroups[0],
            [.. status.StatusGroups.Skip(1).Where(group => group.Count > 0)], report[2]);
    }

    public string Explanation => ((TextPart)Report[0]).Text;

    /// <summary>The per-recipient fields of <paramref name="address"/>.</summary>
    public HeaderList For(string address) =>
        Assert.Single(PerRecipient, fields => fields["Final-Recipient"] == "rfc822; " + address);
}
