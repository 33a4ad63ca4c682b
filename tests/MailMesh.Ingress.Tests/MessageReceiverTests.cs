using System.Buffers;
using System.Text;
using MailMesh.Ingress.Protocol;
using MailMesh.Ingress.Spooling;

namespace MailMesh.Ingress.Tests;

public class MessageReceiverTests
{
    /// <summary>Feeds DATA content as the session does: line by line, long lines in parts.</summary>
    private static (DataLineStatus Status, string Stored, MessageReceiver Receiver) Receive(
        string content, int maxSize = 1 << 20, int maxTextLine = 1000, int partAt = 0)
    {
        var buffer = new MessageBuffer(new BufferBudget(1 << 30));
        var receiver = new MessageReceiver(buffer, maxSize, maxTextLine);
        var bytes = Encoding.Latin1.GetBytes(content);
        var start = 0;
        var status = DataLineStatus.More;
        while (start < bytes.Length && status == DataLineStatus.More)
        {
            var lf = Array.IndexOf(bytes, (byte)'\n', start);
            if (lf < 0)
            {
                break;
            }

            if (partAt > 0 && lf - start > partAt && bytes[start + partAt - 1] != (byte)'\r')
            {
                status = receiver.AcceptPartial(new ReadOnlySequence<byte>(bytes, start, partAt));
                start += partAt;
                continue;
            }

            status = receiver.AcceptLine(new ReadOnlySequence<byte>(bytes, start, lf - start));
            start = lf + 1;
        }

        return (status, Encoding.Latin1.GetString(buffer.Span), receiver);
    }

    [Fact]
    public void AcceptLine_DotStuffedLines_AreUnstuffed()
    {
        var (status, stored, _) = Receive("Subject: x\r\n\r\n..leading dot\r\n...\r\n.\r\n");
        Assert.Equal(DataLineStatus.End, status);
        Assert.Equal("Subject: x\r\n\r\n.leading dot\r\n..\r\n", stored);
    }

    [Theory]
    [InlineData("Subject: x\r\n\r\nbody\n.\r\n")]
    [InlineData("Subject: x\r\n\r\nbody\r\n.\n")]
    [InlineData("Subject: x\r\n\r\nbo\rdy\r\n.\r\n")]
    [InlineData("Subject: x\r\n\r\nbody\r\r\n.\r\n")]
    [InlineData("Subject: x\r\n\n.\r\n")]
    public void AcceptLine_BareCrOrLf_IsRefused(string content)
    {
        Assert.Equal(DataLineStatus.BareNewline, Receive(content).Status);
    }

    [Fact]
    public void AcceptLine_DotInsideLine_DoesNotEnd()
    {
        var (status, stored, _) = Receive("a\r\n .\r\nb.\r\n.\r\n");
        Assert.Equal(DataLineStatus.End, status);
        Assert.Equal("a\r\n .\r\nb.\r\n", stored);
    }

    [Fact]
    public void AcceptLine_CountsReceivedAndNotesHeaders()
    {
        var (_, _, receiver) = Receive(
            "Received: a\r\nRECEIVED: b\r\n\tfolded\r\nDate: x\r\nMessage-ID: <id@x>\r\n\r\nReceived: body\r\n.\r\n");
        Assert.Equal(2, receiver.ReceivedHeaders);
        Assert.True(receiver.HasDate);
        Assert.True(receiver.HasMessageId);
        Assert.Equal("<id@x>", receiver.MessageId);
    }

    [Fact]
    public void AcceptLine_OverSizeLimit_MarksTooBigAndKeepsNothing()
    {
        var (status, stored, receiver) = Receive("Subject: x\r\n\r\n" + new string('a', 200) + "\r\n.\r\n", maxSize: 100);
        Assert.Equal(DataLineStatus.End, status);
        Assert.True(receiver.TooBig);
        Assert.Equal("", stored);
    }

    [Fact]
    public void AcceptLine_LineOverLimit_IsMarked()
    {
        var line = new string('a', 999);
        var (_, _, receiver) = Receive("\r\n" + line + "\r\n.\r\n", maxTextLine: 1000);
        Assert.True(receiver.LineTooLong, "1001 octets with CRLF exceed 1000");
        (_, _, receiver) = Receive("\r\n" + line[..998] + "\r\n.\r\n", maxTextLine: 1000);
        Assert.False(receiver.LineTooLong, "1000 octets with CRLF are allowed");
    }

    [Fact]
    public void AcceptPartial_LongLineInParts_IsStoredWhole()
    {
        var line = "." + new string('x', 5000);
        var (status, stored, receiver) = Receive("\r\n" + line + "\r\n.\r\n", maxTextLine: 100_000, partAt: 1000);
        Assert.Equal(DataLineStatus.End, status);
        Assert.Equal("\r\n" + line[1..] + "\r\n", stored);
        Assert.False(receiver.LineTooLong);
    }

    [Fact]
    public void AcceptPartial_BareCrInPart_IsRefused()
    {
        var line = new string('x', 1500) + "\r" + new string('y', 1500);
        Assert.Equal(DataLineStatus.BareNewline, Receive("\r\n" + line + "\r\n.\r\n", partAt: 1000).Status);
    }

    [Fact]
    public void HeadersEnding_RunsAtBlankLineOrEnd()
    {
        var buffer = new MessageBuffer(new BufferBudget(1 << 20));
        var receiver = new MessageReceiver(buffer, 1 << 20, 1000);
        receiver.HeadersEnding = () => receiver.AddOwn("X-Added: 1\r\n"u8);
        foreach (var line in new[] { "Subject: x\r", "\r", "body\r", ".\r" })
        {
            receiver.AcceptLine(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(line)));
        }

        Assert.Equal("Subject: x\r\nX-Added: 1\r\n\r\nbody\r\n", Encoding.ASCII.GetString(buffer.Span));
    }

    [Fact]
    public void Append_OverBudget_MarksOutOfMemory()
    {
        var budget = new BufferBudget(20_000);
        using var holder = new MessageBuffer(budget);
        var buffer = new MessageBuffer(budget);
        var receiver = new MessageReceiver(buffer, 1 << 20, 100_000);
        var line = new string('a', 30_000) + "\r";
        receiver.AcceptLine(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(line)));
        Assert.True(receiver.OutOfMemory);
        Assert.Equal(0, budget.Used);
    }
}
