using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailMesh.Ingress.Tests.Support;

/// <summary>
/// A raw SMTP client for protocol tests: sends exactly the bytes a test gives and reads replies
/// as the server wrote them, so malformed input can be sent on purpose.
/// </summary>
internal sealed class SmtpWire : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private SmtpWire(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.Latin1);
    }

    public sealed record Reply(int Code, IReadOnlyList<string> Lines)
    {
        public string Text => string.Join("\n", Lines);

        public override string ToString() => Text;
    }

    public static async Task<SmtpWire> ConnectAsync(IPEndPoint endpoint, bool expectGreeting = true)
    {
        var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var wire = new SmtpWire(client);
        if (expectGreeting)
        {
            var greeting = await wire.ReadAsync();
            Assert.Equal(220, greeting.Code);
        }

        return wire;
    }

    /// <summary>Connects and says EHLO.</summary>
    public static async Task<SmtpWire> GreetedAsync(IPEndPoint endpoint)
    {
        var wire = await ConnectAsync(endpoint);
        await wire.CommandAsync("EHLO client.test", 250);
        return wire;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one reply, all its lines; null when the server closed the connection.</summary>
    public async Task<Reply> ReadAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var lines = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancel.Token)
                ?? throw new IOException("The server closed the connection; replies so far: "
                    + string.Join(" | ", lines));
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return new Reply(int.Parse(line[..3]), lines);
            }
        }
    }

    /// <summary>Sends one command line and asserts the reply code.</summary>
    public async Task<Reply> CommandAsync(string command, int expected)
    {
        await SendAsync(command + "\r\n");
        var reply = await ReadAsync();
        Assert.True(reply.Code == expected, $"'{command}' got '{reply}', expected {expected}");
        return reply;
    }

    /// <summary>True when the server has closed the connection (reads end of stream).</summary>
    public async Task<bool> IsClosedAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _reader.ReadLineAsync(cancel.Token) is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.CompletedTask;
        _reader.Dispose();
        _client.Dispose();
    }
}
