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
/// Turns message content into the message to spool, line by line as it streams. For DATA
/// (RFC 5321 4.1.1.4 and 4.5.2) it removes dot-stuffing, stops at the line holding only ".",
/// and refuses any CR or LF that is not part of a CRLF pair. For BDAT (RFC 3030) it takes the
/// chunks as they are, but rewrites a bare CR or LF as CRLF, so no later hop can read one as
/// a line end of its own. Either way it checks the size and line limits as it goes, counts
/// Received headers, and notes which headers a trusted client's message lacks.
/// </summary>
internal sealed class MessageReceiver(MessageBuffer buffer, int maxSize, int maxTextLine)
{
    private const int HeaderPrefixLength = 12;

    private readonly byte[] _prefix = new byte[HeaderPrefixLength];
    private bool _atLineStart = true;
    private bool _inHeaders = true;
    private bool _pendingCr;
    private int _prefixLength;
    private int _lineLength;
    private int _lineOffset;
    private long _size;

    /// <summary>Octets of message content received, after dot-stuffing was removed.</summary>
    public long Size => _size;

    public bool TooBig { get; private set; }

    public bool LineTooLong { get; private set; }

    public bool OutOfMemory { get; private set; }

    public int ReceivedHeaders { get; private set; }

    public bool HasMessageId { get; private set; }

    public bool HasDate { get; private set; }

    /// <summary>Bare CRs or LFs rewritten as CRLF in BDAT content.</summary>
    public int NormalisedLineEnds { get; private set; }

    /// <summary>The Message-ID header's value, for logs; null when there is none.</summary>
    public string? MessageId { get; private set; }

    /// <summary>Called when the header section ends, before its blank line is stored.</summary>
    public Action? HeadersEnding { get; set; }

    /// <summary>
    /// DATA: takes one line without its LF; <paramref name="line"/> must end in CR. A line whose
    /// start came earlier through <see cref="AcceptPartial"/> continues it.
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

        if (_atLineStart)
        {
            if (content.Length == 1 && content.FirstSpan[0] == (byte)'.')
            {
                EndHeaders();
                return DataLineStatus.End;
            }

            content = Unstuff(content);
        }

        Content(content);
        EndOfLine();
        return DataLineStatus.More;
    }

    /// <summary>
    /// DATA: takes the start of a long line whose LF has not arrived. It must not end in CR:
    /// that CR may be the first half of the line's CRLF.
    /// </summary>
    public DataLineStatus AcceptPartial(ReadOnlySequence<byte> part)
    {
        if (part.PositionOf((byte)'\r') is not null)
        {
            return DataLineStatus.BareNewline;
        }

        Content(_atLineStart ? Unstuff(part) : part);
        return DataLineStatus.More;
    }

    /// <summary>
    /// BDAT: takes chunk bytes, which may end anywhere, even between the CR and LF of a pair.
    /// </summary>
    public void AcceptChunk(ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                if (_pendingCr)
                {
                    // CR ended the previous piece: with an LF it is CRLF, alone it is a bare CR.
                    _pendingCr = false;
                    if (span[0] == (byte)'\n')
                    {
                        span = span[1..];
                    }
                    else
                    {
                        NormalisedLineEnds++;
                    }

                    EndOfLine();
                    continue;
                }

                var end = span.IndexOfAny((byte)'\r', (byte)'\n');
                if (end < 0)
                {
                    Content(new ReadOnlySequence<byte>(segment[^span.Length..]));
                    break;
                }

                if (end > 0)
                {
                    Content(new ReadOnlySequence<byte>(segment.Slice(segment.Length - span.Length, end)));
                }

                if (span[end] == (byte)'\r')
                {
                    _pendingCr = true;
                }
                else
                {
                    NormalisedLineEnds++;
                    EndOfLine();
                }

                span = span[(end + 1)..];
            }
        }
    }

    /// <summary>BDAT LAST: ends the content, with CRLF after a last line that lacks one.</summary>
    public void EndChunks()
    {
        if (_pendingCr)
        {
            _pendingCr = false;
            NormalisedLineEnds++;
            EndOfLine();
        }
        else if (!_atLineStart)
        {
            EndOfLine();
        }

        EndHeaders();
    }

    /// <summary>Adds bytes of MailMesh's own (a header) that do not count toward the size limit.</summary>
    public void AddOwn(ReadOnlySpan<byte> bytes)
    {
        if (!TooBig && !OutOfMemory && !buffer.Append(bytes))
        {
            RunOutOfMemory();
        }
    }

    private static bool EndsWithCr(ReadOnlySequence<byte> line) =>
        line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r';

    private static ReadOnlySequence<byte> Unstuff(ReadOnlySequence<byte> content) =>
        !content.IsEmpty && content.FirstSpan[0] == (byte)'.' ? content.Slice(1) : content;

    /// <summary>Content of the current line, in one or more pieces, without its line end.</summary>
    private void Content(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (_atLineStart)
        {
            _atLineStart = false;
            _lineOffset = buffer.Length;
        }

        if (_prefixLength < HeaderPrefixLength)
        {
            var take = (int)Math.Min(bytes.Length, HeaderPrefixLength - _prefixLength);
            bytes.Slice(0, take).CopyTo(_prefix.AsSpan(_prefixLength));
            _prefixLength += take;
        }

        _lineLength += (int)Math.Min(bytes.Length, int.MaxValue - _lineLength);
        if (Admit(bytes.Length) && !buffer.Append(bytes))
        {
            RunOutOfMemory();
        }
    }

    private void EndOfLine()
    {
        if (_inHeaders)
        {
            if (_lineLength == 0)
            {
                EndHeaders();
            }
            else
            {
                NoteHeader();
            }
        }

        if (Admit(2) && !buffer.Append("\r\n"u8))
        {
            RunOutOfMemory();
        }

        if (_lineLength + 2 > maxTextLine)
        {
            LineTooLong = true;
        }

        _atLineStart = true;
        _lineLength = 0;
        _prefixLength = 0;
    }

    private void NoteHeader()
    {
        var start = _prefix.AsSpan(0, _prefixLength);
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
            var stored = buffer.Span;
            var valueStart = _lineOffset + "message-id:".Length;
            if (!TooBig && !OutOfMemory && _lineLength < 1000 && valueStart <= stored.Length)
            {
                MessageId = Encoding.ASCII.GetString(stored[valueStart..]).Trim();
            }
        }
    }

    private static bool StartsWithName(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name) =>
        line.Length >= name.Length && Ascii.EqualsIgnoreCase(line[..name.Length], name);

    private void EndHeaders()
    {
        if (_inHeaders)
        {
            _inHeaders = false;
            HeadersEnding?.Invoke();
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
