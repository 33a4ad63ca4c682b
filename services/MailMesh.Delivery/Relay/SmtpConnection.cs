using System.Net.Sockets;
using MailKit.Net.Smtp;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// One SMTP session held by the <see cref="SmtpConnectionPool"/>: handed out with no client until
/// the relay connects it, then carrying one transaction at a time until it is closed.
/// </summary>
internal sealed class SmtpConnection(SmtpConnectionKey key)
{
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(10);

    private Socket? _socket;

    public SmtpConnectionKey Key => key;

    /// <summary>The session; null until the relay attached one.</summary>
    public RelayClient? Client { get; private set; }

    /// <summary>Mail transactions this connection carried so far.</summary>
    public int Transactions { get; private set; }

    /// <summary>It carried a transaction before: it comes from the pool, already connected.</summary>
    public bool IsReused => Transactions > 0;

    /// <summary>When it last went idle, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long IdleSince { get; set; }

    /// <summary>
    /// Whether the session can take another transaction: MailKit still holds it open, and the
    /// server has neither closed its end nor said anything unasked, such as the <c>421</c> of its
    /// idle timeout. Either would be found by the next command; this costs no round trip.
    /// </summary>
    public bool IsOpen
    {
        get
        {
            if (Client is not { IsConnected: true } || _socket is null)
            {
                return false;
            }

            try
            {
                return !_socket.Poll(0, SelectMode.SelectRead);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    /// <summary>Gives the connection its session and the socket under it, before connecting.</summary>
    public void Attach(RelayClient client, Socket socket)
    {
        Client = client;
        _socket = socket;
    }

    public void CountTransaction() => Transactions++;

    /// <summary>
    /// Ends the session with QUIT when it is still open (RFC 5321 4.1.1.10), then closes it.
    /// </summary>
    public async Task CloseAsync(TimeProvider time)
    {
        if (Client is { IsConnected: true } client)
        {
            using var timeout = new CancellationTokenSource(QuitTimeout, time);
            try
            {
                await client.DisconnectAsync(quit: true, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException
                or OperationCanceledException or ObjectDisposedException)
            {
                // Whatever the server makes of it, the connection is gone.
            }
        }

        Client?.Dispose();
        _socket?.Dispose();
    }
}
