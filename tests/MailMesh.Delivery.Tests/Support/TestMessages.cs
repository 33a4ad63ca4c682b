using System.Text;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>Messages that a re-serialising relay would change.</summary>
internal static class TestMessages
{
    /// <summary>
    /// 8-bit UTF-8 text, a line of 998 octets plus CRLF, odd folding and spacing in headers, a Bcc
    /// header, a DKIM-Signature, a line starting with a dot and a base64 binary attachment.
    /// </summary>
    public static byte[] Awkward(string from, string to)
    {
        var random = new Random(4711);
        var binary = new byte[3000];
        random.NextBytes(binary);
        var attachment = Convert.ToBase64String(binary, Base64FormattingOptions.InsertLineBreaks);
        var text = new StringBuilder()
            .Append("DKIM-Signature: v=1; a=rsa-sha256; d=mailmesh.test; s=sel;\r\n")
            .Append("\t h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n")
            .Append("\tb=dGVzdA==\r\n")
            .Append($"From: Sender <{from}>\r\n")
            .Append($"To:   <{to}>\r\n")
            .Append("Bcc: hidden@mailmesh.test\r\n")
            .Append("Subject:    odd   spacing,\r\n")
            .Append("   folded\r\n")
            .Append("\tand folded again\r\n")
            .Append("X-Empty:\r\n")
            .Append("Message-ID: <awkward.1@mailmesh.test>\r\n")
            .Append("Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n")
            .Append("MIME-Version: 1.0\r\n")
            .Append("Content-Type: multipart/mixed; boundary=\"b1\"\r\n")
            .Append("\r\n")
            .Append("preamble\r\n")
            .Append("--b1\r\n")
            .Append("Content-Type: text/plain; charset=utf-8\r\n")
            .Append("Content-Transfer-Encoding: 8bit\r\n")
            .Append("\r\n")
            .Append("Grüße aus Köln, ça va? Ünïcödé ✓\r\n")
            .Append(".a line that starts with a dot\r\n")
            .Append('x', 998).Append("\r\n")
            .Append("trailing spaces   \r\n")
            .Append("--b1\r\n")
            .Append("Content-Type: application/octet-stream; name=blob.bin\r\n")
            .Append("Content-Transfer-Encoding: base64\r\n")
            .Append("\r\n")
            .Append(attachment.Replace("\r\n", "\r\n", StringComparison.Ordinal)).Append("\r\n")
            .Append("--b1--\r\n")
            .Append("epilogue\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>A short 7-bit message.</summary>
    public static byte[] Plain(string from, string to, string subject) => Encoding.ASCII.GetBytes(
        $"From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@mailmesh.test>\r\n"
        + "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n");

    /// <summary>True when <paramref name="spooled"/> is one Received: header followed by <paramref name="sent"/>.</summary>
    public static bool IsSentWithReceived(byte[] spooled, byte[] sent)
    {
        if (!spooled.AsSpan().EndsWith(sent) || !spooled.AsSpan().StartsWith("Received: "u8))
        {
            return false;
        }

        // The part before the sent bytes is exactly one header field: every further line is folded.
        var prefix = Encoding.Latin1.GetString(spooled, 0, spooled.Length - sent.Length);
        var lines = prefix.Split("\r\n")[..^1];
        return prefix.EndsWith("\r\n", StringComparison.Ordinal)
            && lines.Skip(1).All(line => line.StartsWith(' ') || line.StartsWith('\t'));
    }
}
