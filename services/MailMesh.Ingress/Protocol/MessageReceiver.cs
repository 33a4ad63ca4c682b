using System.Buffers;
using System.Text;
using MailMesh.Ingress.Spooling;

namespace MailMesh.Ingress.Protocol;

internal enum DataLineStatus
{
    More,
    End,
    BareNewline,
}

/// <summary>
/// Turns DATA content into the message to spool, line by line as it streams (RFC 5321
/// 4.1.1.4 and 4.5.2): removes dot-stuffing, stops at the line holding only ".", and refuses
/// any CR or LF that is not part of a CRLF pair. It checks the size and line limits as it
/// goes, counts Received headers, and notes which headers a trusted client's message lacks.
/// </summary>
internal sealed class MessageReceiver(MessageBuffer buffer, int maxSize, int maxTextLine)
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private bool _atLineStart = true;
    private bool _inHeaders = true;
    private int _lineLength;
    private long _size;

    /// <summary>Octets of message content received, after dot-stuffing was removed.</summary>
    public long Size => _size;

    public bool TooBig { get; private set; }

    public bool LineTooLong { get; private set; }

    public bool OutOfMemory { get; private set; }

    public int ReceivedHeaders { get; private set; }

    public bool HasMessageId { get; private set; }

    public bool HasDate { get; private set; }

    /// <summary>The Message-ID header's value, for logs; null when there is none.</summary>
    public string? MessageId { get; private set; }

    /// <summary>Called when the header section ends, before its blank line is stored.</summary>
    public Action? HeadersEnding { get; set; }

    /// <summary>
    /// Takes one line without its LF: <paramref name="line"/> must end in CR. A line whose start
    /// came earlier through <see cref="AcceptPartial"/> continues it.
    /// </summary>
    public DataLineStatus AcceptLine(ReadOnlySequence<byte> line)
    {
        if (line.IsEmpty || !EndsWithCr(line))
        {
            return DataLineStatus.BareNewline;
        }

        var content = line.Slice(0, line.Length - 1);
        if (content.PositionOf((byte)'\r') is not null)
        {
            return DataLineStatus.BareNewline;
        }

        _lineLength += (int)Math.Min(line.Length + 1, int.MaxValue - _lineLength);
        if (_atLineStart)
        {
            if (content.Length == 1 && content.FirstSpan[0] == (byte)'.')
            {
                EndHeaders();
                return DataLineStatus.End;
            }

            content = Unstuff(content);
            if (_inHeaders)
            {
                if (content.IsEmpty)
                {
                    EndHeaders();
                }
                else
                {
                    NoteHeader(content);
                }
            }
        }

        Store(content);
        Store(Crlf);
        if (_lineLength > maxTextLine)
        {
            LineTooLong = true;
        }

        _atLineStart = true;
        _lineLength = 0;
        return DataLineStatus.More;
    }

    /// <summary>
    /// Takes the start of a long line whose LF has not arrived. It must not end in CR: that CR
    /// may be the first half of the line's CRLF.
    /// </summary>
    public DataLineStatus AcceptPartial(ReadOnlySequence<byte> part)
    {
        if (part.PositionOf((byte)'\r') is not null)
        {
            return DataLineStatus.BareNewline;
        }

        if (_atLineStart)
        {
            part = Unstuff(part);
            if (_inHeaders)
            {
                NoteHeader(part);
            }

            _atLineStart = false;
        }

        _lineLength += (int)Math.Min(part.Length, int.MaxValue - _lineLength);
        Store(part);
        return DataLineStatus.More;
    }

    private static bool EndsWithCr(ReadOnlySequence<byte> line)
    {
        var last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }

    private static ReadOnlySequence<byte> Unstuff(ReadOnlySequence<byte> content) =>
        !content.IsEmpty && content.FirstSpan[0] == (byte)'.' ? content.Slice(1) : content;

    private void NoteHeader(ReadOnlySequence<byte> line)
    {
        Span<byte> start = stackalloc byte[12];
        var length = (int)Math.Min(line.Length, start.Length);
        line.Slice(0, length).CopyTo(start);
        start = start[..length];
        if (StartsWithName(start, "received:"u8))
        {
            ReceivedHeaders++;
        }
        else if (StartsWithName(start, "date:"u8))
        {
            HasDate = true;
        }
        else if (StartsWithName(start, "message-id:"u8))
        {
            HasMessageId = true;
            if (line.Length < 1000)
            {
                MessageId = Encoding.ASCII.GetString(line.Slice(11)).Trim();
            }
        }
    }

    private static bool StartsWithName(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name) =>
        line.Length >= name.Length && System.Text.Ascii.EqualsIgnoreCase(line[..name.Length], name);

    private void EndHeaders()
    {
        if (_inHeaders)
        {
            _inHeaders = false;
            HeadersEnding?.Invoke();
        }
    }

    /// <summary>Adds bytes of MailMesh's own (a header) that do not count toward the size limit.</summary>
    public void AddOwn(ReadOnlySpan<byte> bytes)
    {
        if (!TooBig && !OutOfMemory && !buffer.Append(bytes))
        {
            RunOutOfMemory();
        }
    }

    private void Store(ReadOnlySequence<byte> bytes)
    {
        if (Admit(bytes.Length) && !buffer.Append(bytes))
        {
            RunOutOfMemory();
        }
    }

    private void Store(ReadOnlySpan<byte> bytes)
    {
        if (Admit(bytes.Length) && !buffer.Append(bytes))
        {
            RunOutOfMemory();
        }
    }

    private bool Admit(long length)
    {
        _size += length;
        if (_size > maxSize && !TooBig)
        {
            // Nothing of an oversized message will be spooled: give the memory back now.
            TooBig = true;
            buffer.Clear();
        }

        return !TooBig && !OutOfMemory;
    }

    private void RunOutOfMemory()
    {
        OutOfMemory = true;
        buffer.Clear();
    }
}
