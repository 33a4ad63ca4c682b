using System.Net.Sockets;
using System.Text;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// Submits exact bytes over SMTP: no client library in between to re-encode, re-fold or drop a
/// header, so a test knows the octets the ingress received.
/// </summary>
internal static class RawSmtp
{
    /// <summary>Sends one message; returns the reply to the final dot.</summary>
    public static Task<string> SendAsync(int port, string from, IEnumerable<string> to, byte[] content,
        bool eightBit = false) =>
        SendWithParametersAsync(port, from, eightBit ? "BODY=8BITMIME" : "",
            to.Select(address => (address, "")), content);

    /// <summary>
    /// Sends one message with ESMTP parameters on MAIL (<c>RET=HDRS ENVID=x</c>) and on each RCPT
    /// (<c>NOTIFY=NEVER</c>); returns the reply to the final dot. An empty <paramref name="from"/> is
    /// the null reverse path.
    /// </summary>
    public static async Task<string> SendWithParametersAsync(int port, string from, string mailParameters,
        IEnumerable<(string Address, string Parameters)> to, byte[] content)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1);
        await ExpectAsync(reader, "220");
        await CommandAsync(stream, reader, "EHLO client.mailmesh.test", "250");
        await CommandAsync(stream, reader, $"MAIL FROM:<{from}> {mailParameters}".TrimEnd(), "250");
        foreach (var (address, parameters) in to)
        {
            await CommandAsync(stream, reader, $"RCPT TO:<{address}> {parameters}".TrimEnd(), "250");
        }

        await CommandAsync(stream, reader, "DATA", "354");
        await stream.WriteAsync(DotStuff(content));
        await stream.WriteAsync(".\r\n"u8.ToArray());
        var reply = await ExpectAsync(reader, "250");
        await CommandAsync(stream, reader, "QUIT", "221");
        return reply;
    }

    private static byte[] DotStuff(byte[] content)
    {
        var output = new MemoryStream(content.Length + 64);
        var lineStart = true;
        foreach (var b in content)
        {
            if (lineStart && b == (byte)'.')
            {
                output.WriteByte((byte)'.');
            }

            output.WriteByte(b);
            lineStart = b == (byte)'\n';
        }

        return output.ToArray();
    }

    private static async Task CommandAsync(NetworkStream stream, StreamReader reader, string command, string code)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        await ExpectAsync(reader, code);
    }

    private static async Task<string> ExpectAsync(StreamReader reader, string code)
    {
        string reply;
        do
        {
            reply = await reader.ReadLineAsync() ?? throw new IOException("The server closed the connection.");
        }
        while (reply.Length > 3 && reply[3] == '-');

        if (!reply.StartsWith(code, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Expected {code}, got: {reply}");
        }

        return reply;
    }
}
