using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// A small SMTP server for answers smtp-sink cannot give: a different reply per recipient,
/// chosen by the local part (<c>soft...</c> gets 450, <c>hard...</c> gets 550, any other 250),
/// or a refusal in the greeting. It records each transaction it accepted.
/// </summary>
internal sealed class ScriptedMx : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string _greeting;

    private ScriptedMx(TcpListener listener, string greeting)
    {
        _listener = listener;
        _greeting = greeting;
        _accepting = AcceptAsync();
    }

    /// <summary>Recipients accepted at RCPT, by transaction, once its data was taken.</summary>
    public ConcurrentQueue<IReadOnlyList<string>> Delivered { get; } = new();

    public static ScriptedMx Start(string address, int port, string greeting = "220 scripted.example ESMTP")
    {
        var listener = new TcpListener(IPAddress.Parse(address), port);
        listener.Start();
        return new ScriptedMx(listener, greeting);
    }

    private async Task AcceptAsync()
    {
        var sessions = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                sessions.Add(ServeAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(sessions);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
        try
        {
            await writer.WriteLineAsync(_greeting);
            if (!_greeting.StartsWith("220", StringComparison.Ordinal))
            {
                return;
            }

            var accepted = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync("250-scripted.example\r\n250 8BITMIME");
                        break;
                    case "MAIL":
                        accepted.Clear();
                        await writer.WriteLineAsync("250 2.1.0 ok");
                        break;
                    case "RCPT":
                        var address = line[(line.IndexOf('<', StringComparison.Ordinal) + 1)..line.IndexOf('>',
                            StringComparison.Ordinal)];
                        var soft = address.StartsWith("soft", StringComparison.Ordinal);
                        var hard = address.StartsWith("hard", StringComparison.Ordinal);
                        await writer.WriteLineAsync(
                            soft ? "450 4.2.1 try later" : hard ? "550 5.1.1 no such user" : "250 2.1.5 ok");
                        if (!soft && !hard)
                        {
                            accepted.Add(address);
                        }

                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 go ahead");
                        while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".")
                        {
                        }

                        Delivered.Enqueue([.. accepted]);
                        await writer.WriteLineAsync("250 2.0.0 queued as SCRIPTED");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 2.0.0 bye");
                        return;
                    default:
                        await writer.WriteLineAsync("250 2.0.0 ok");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            // The client went away, or the server is stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
