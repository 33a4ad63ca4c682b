using MimeKit;

namespace MailMesh.Delivery.Relay;

/// <summary>The body of a <see cref="VerbatimMessage"/>: its bytes, written as they are.</summary>
internal sealed class VerbatimBody : MimePart
{
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();
    private readonly byte[] _content;

    public VerbatimBody(byte[] content, bool eightBit)
        : base("application", "octet-stream")
    {
        _content = content;
        // SmtpClient asks for BODY=8BITMIME (RFC 6152) when a part of the message is marked 8bit.
        ContentTransferEncoding = eightBit ? ContentEncoding.EightBit : ContentEncoding.SevenBit;
        // The verbatim header section carries every header; this part writes none of its own.
        Headers.Clear();
    }

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly = false,
        CancellationToken cancellationToken = default)
    {
        stream.Write(_content);
        if (NeedsNewLine(options))
        {
            stream.Write(CrLf);
        }
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly = false,
        CancellationToken cancellationToken = default)
    {
        await stream.WriteAsync(_content, cancellationToken).ConfigureAwait(false);
        if (NeedsNewLine(options))
        {
            await stream.WriteAsync(CrLf, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void OnHeadersChanged(HeaderListChangedAction action, Header? header)
    {
        // Clearing the headers would reset the transfer encoding that SmtpClient reads.
        if (action != HeaderListChangedAction.Cleared)
        {
            base.OnHeadersChanged(action, header);
        }
    }

    // RFC 5321 4.1.1.4: the content ends with CRLF before the line with the terminating dot.
    private bool NeedsNewLine(FormatOptions options) =>
        options.EnsureNewLine && _content.Length > 0 && !_content.AsSpan().EndsWith(CrLf);
}
