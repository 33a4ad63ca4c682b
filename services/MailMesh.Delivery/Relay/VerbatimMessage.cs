using MimeKit;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// A message that MailKit's SmtpClient sends as the spooled bytes, octet for octet, so DKIM and
/// ARC signatures survive. SmtpClient writes a MimeMessage through its headers and body; here the
/// whole header section is one header whose raw value MimeKit writes back untouched (the first
/// field's name, then everything up to the empty line), and the body is a
/// <see cref="VerbatimBody"/> that copies its bytes. Nothing is parsed, so nothing is re-folded,
/// re-encoded or hidden (Bcc included). SmtpClient still dot-stuffs DATA and measures SIZE=.
/// </summary>
internal sealed class VerbatimMessage : MimeMessage
{
    public VerbatimMessage(byte[] content)
    {
        Load(content);
    }

    /// <summary>The octets that go on the wire (dot-stuffing aside).</summary>
    public byte[] Content { get; private set; } = [];

    /// <summary>True once <see cref="DowngradeTo7Bit"/> re-encoded the content.</summary>
    public bool Downgraded { get; private set; }

    /// <summary>
    /// RFC 6152 section 3: a server without 8BITMIME must not get 8-bit octets; the message is
    /// converted to 7-bit MIME (8-bit parts re-encoded as quoted-printable or base64). This is
    /// the only change MailMesh ever makes to a relayed message.
    /// </summary>
    // Limitation: 8-bit octets in header fields stay as they are; MIME has no 7-bit form for a
    // raw 8-bit header, and RFC 6152 leaves such a message to be bounced or sent as it is.
    public void DowngradeTo7Bit()
    {
        if (!HasEightBitOctets(Content))
        {
            return;
        }

        using var input = new MemoryStream(Content, writable: false);
        using var parsed = MimeMessage.Load(input);
        parsed.Prepare(EncodingConstraint.SevenBit, 998);
        using var output = new MemoryStream(Content.Length + Content.Length / 3);
        parsed.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, output);
        Load(output.ToArray());
        Downgraded = true;
    }

    /// <summary>Nothing to prepare: the content goes as spooled (see <see cref="DowngradeTo7Bit"/>).</summary>
    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
    }

    internal static bool HasEightBitOctets(ReadOnlySpan<byte> content) =>
        content.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;

    private void Load(byte[] content)
    {
        var span = content.AsSpan();
        var colon = span.IndexOf((byte)':');
        var firstLine = span.IndexOf("\r\n"u8);
        if (colon <= 0 || (firstLine >= 0 && colon > firstLine))
        {
            // The ingress always puts its Received: field first, so this is a damaged spool message.
            throw new FormatException("The message does not start with a header field.");
        }

        var end = span.IndexOf("\r\n\r\n"u8);
        // Limitation: a message with no body (no empty line after its header section) is sent
        // with the empty line added, since MimeMessage always writes one after the headers.
        var headerEnd = end < 0 ? content.Length : end + 2;
        var section = new Header(System.Text.Encoding.ASCII.GetString(content, 0, colon), "");
        section.SetRawValue(content[(colon + 1)..headerEnd]);
        Headers.Clear();
        Body = new VerbatimBody(end < 0 ? [] : content[(end + 4)..], HasEightBitOctets(content));
        // Setting the body adds MIME-Version to the message and Content-Type to the part; the one
        // header written is the verbatim section.
        Headers.Clear();
        Headers.Add(section);
        Body.Headers.Clear();
        Content = content;
    }
}
