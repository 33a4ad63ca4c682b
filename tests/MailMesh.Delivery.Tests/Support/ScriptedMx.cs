using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// A small SMTP server for answers smtp-sink cannot give: a different reply per recipient,
/// chosen by the local part (<c>soft...</c> gets 450, <c>hard...</c> gets 550, any other 250),
/// or a refusal in the greeting. It records each transaction it accepted, the connections it
/// was given and how they ended, and can misbehave as <see cref="ScriptedMxOptions"/> says.
/// </summary>
internal sealed class ScriptedMx : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string _greeting;
    private readonly ScriptedMxOptions _options;
    private int _connections;
    private int _quits;
    private int _resets;

    private ScriptedMx(TcpListener listener, string greeting, ScriptedMxOptions options)
    {
        _listener = listener;
        _greeting = greeting;
        _options = options;
        _accepting = AcceptAsync();
    }

    /// <summary>Recipients accepted at RCPT, by transaction, once its data was taken.</summary>
    public ConcurrentQueue<IReadOnlyList<string>> Delivered { get; } = new();

    /// <summary>Every transaction taken, with its connection and message.</summary>
    public ConcurrentQueue<ScriptedTransaction> Transactions { get; } = new();

    /// <summary>TCP connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Sessions the client ended with QUIT.</summary>
    public int Quits => Volatile.Read(ref _quits);

    /// <summary>RSET commands received.</summary>
    public int Resets => Volatile.Read(ref _resets);

    public SessionGauge Gauge => _options.Gauge;

    public static ScriptedMx Start(string address, int port, string greeting = "220 scripted.example ESMTP",
        ScriptedMxOptions? options = null)
    {
        var listener = new TcpListener(IPAddress.Parse(address), port);
        listener.Start();
        return new ScriptedMx(listener, greeting, options ?? new ScriptedMxOptions());
    }

    /// <summary>Waits at most <paramref name="timeout"/> until <paramref name="condition"/> holds.</summary>
    public async Task WaitUntilAsync(Func<ScriptedMx, bool> condition, TimeSpan timeout, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition(this))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not within {timeout}: {what}. Connections {Connections}, "
                    + $"transactions {Transactions.Count}, QUITs {Quits}, sessions open {Gauge.Current}.");
            }

            await Task.Delay(20);
        }
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
        var connection = Interlocked.Increment(ref _connections);
        var gauge = _options.Gauge;
        gauge.Enter();
        var left = false;
        void Leave()
        {
            if (!left)
            {
                left = true;
                gauge.Leave();
            }
        }

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
            var taken = 0;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync(_options.Pipelining
                            ? "250-scripted.example\r\n250-PIPELINING\r\n250 8BITMIME"
                            : "250-scripted.example\r\n250 8BITMIME");
                        break;
                    case "MAIL" when _options.DropSecondTransaction && taken > 0:
                        return;
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
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } text && text != ".")
                        {
                            // RFC 5321 4.5.2: a leading dot was doubled by the client.
                            data.Append(text.StartsWith('.') ? text[1..] : text).Append("\r\n");
                        }

                        if (_options.DataReplyDelay > TimeSpan.Zero)
                        {
                            await Task.Delay(_options.DataReplyDelay, _stop.Token);
                        }

                        taken++;
                        Delivered.Enqueue([.. accepted]);
                        Transactions.Enqueue(new ScriptedTransaction(connection, [.. accepted],
                            Encoding.Latin1.GetBytes(data.ToString())));
                        await writer.WriteLineAsync("250 2.0.0 queued as SCRIPTED");
                        break;
                    case "QUIT":
                        // The session is over once QUIT is read, before the client sees the reply.
                        Interlocked.Increment(ref _quits);
                        Leave();
                        await writer.WriteLineAsync("221 2.0.0 bye");
                        return;
                    case "RSET":
                        Interlocked.Increment(ref _resets);
                        await writer.WriteLineAsync("250 2.0.0 ok");
                        break;
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
        finally
        {
            Leave();
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
