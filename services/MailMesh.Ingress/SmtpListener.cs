using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailMesh.Hosting;
using MailMesh.Ingress.Policy;
using MailMesh.Ingress.Protocol;
using MailMesh.Ingress.Security;
using MailMesh.Ingress.Spooling;
using MailMesh.Spool;
using Microsoft.Extensions.Options;

namespace MailMesh.Ingress;

/// <summary>
/// Accepts SMTP connections and runs a session for each, within the limits on connections in
/// all and per client address. On shutdown it stops accepting and lets every session end
/// (idle ones are told 421; one spooling a message finishes it). The relay listener and the
/// submission listener (which requires AUTH) are each one of these.
/// </summary>
internal sealed partial class SmtpListener(
    string name,
    int port,
    bool requireAuth,
    IngressOptions options,
    IOptions<MailMeshOptions> mailMesh,
    RelayPolicy relay,
    IMessageSpool spool,
    QueueIdGenerator queueIds,
    TlsCertificateSource? certificates,
    UserDirectory users,
    AuthFailureTracker authFailures,
    TimeProvider time,
    ILogger<SmtpListener> logger)
{
    private readonly IngressOptions _options = options;
    private readonly ConcurrentDictionary<IPAddress, int> _perClient = new();
    private readonly ConcurrentDictionary<Task, bool> _sessions = new();
    private readonly TaskCompletionSource<IPEndPoint> _bound =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;

    /// <summary>The address actually bound, once listening (port 0 picks a free one).</summary>
    public Task<IPEndPoint> Bound => _bound.Task;

    public string Name => name;

    public async Task RunAsync(BufferBudget budget, CancellationToken stoppingToken)
    {
        var settings = new SessionSettings(_options, mailMesh.Value.Hostname, relay, spool, budget,
            queueIds, time, logger, certificates, users, authFailures, requireAuth);
        var endpoint = new IPEndPoint(IPAddress.Parse(_options.Address), port);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                // "::" serves IPv4 clients too, as ::ffff:a.b.c.d (mapped back for the rules).
                socket.DualMode = true;
            }

            socket.Bind(endpoint);
            socket.Listen(512);
        }
        catch (SocketException e)
        {
            _bound.TrySetException(e);
            throw;
        }

        var bound = (IPEndPoint)socket.LocalEndPoint!;
        _bound.TrySetResult(bound);
        LogListening(logger, name, bound);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await socket.AcceptAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // the listener carries on; a short pause keeps it from spinning.
                    LogAcceptFailed(logger, e.SocketErrorCode);
                    await Task.Delay(TimeSpan.FromMilliseconds(100), time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                var task = RunSessionAsync(client, settings, stoppingToken);
                _sessions.TryAdd(task, true);
                _ = task.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: stop accepting.
        }

        await Task.WhenAll(_sessions.Keys).ConfigureAwait(false);
    }

    private async Task RunSessionAsync(Socket socket, SessionSettings settings, CancellationToken stopping)
    {
        await Task.Yield();
        IPAddress address;
        try
        {
            address = ((IPEndPoint)socket.RemoteEndPoint!).Address;
        }
        catch (SocketException)
        {
            // Gone before its session began.
            socket.Dispose();
            return;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var total = Interlocked.Increment(ref _connections);
        var fromClient = _perClient.AddOrUpdate(address, 1, (_, count) => count + 1);
        try
        {
            socket.NoDelay = true;
            var stream = new NetworkStream(socket, ownsSocket: true);
            await using var owned = stream.ConfigureAwait(false);
            if (total > _options.MaxConnections || fromClient > _options.MaxConnectionsPerClient)
            {
                // RFC 5321 3.8: a server that will not serve a client may say 421 and close.
                LogTooManyConnections(logger, address, total, fromClient);
                IngressTelemetry.CountRefusal(421, total > _options.MaxConnections ? "4.3.2" : "4.7.0");
                var text = total > _options.MaxConnections
                    ? $"421 4.3.2 {settings.Hostname} Service busy: too many connections, try again later\r\n"
                    : $"421 4.7.0 {settings.Hostname} Too many connections from {address}, "
                        + "try again later\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(text), stopping).ConfigureAwait(false);
                return;
            }

            var session = new SmtpSession(stream, address, settings);
            try
            {
                await session.RunAsync(stopping).ConfigureAwait(false);
            }
            finally
            {
                await session.CloseAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException
            or ObjectDisposedException)
        {
            LogSessionEnded(logger, address, e.Message);
        }
        catch (Exception e)
        {
            // A fault in one session must cost that session only.
            LogSessionFailed(logger, e, address);
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
            if (_perClient.AddOrUpdate(address, 0, (_, count) => count - 1) <= 0)
            {
                _perClient.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
            }
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "SMTP {Listener} listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string listener, IPEndPoint endpoint);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "Accepting a connection failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, SocketError error);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning,
        Message = "{Client}: refused, {Total} connections in all, {FromClient} from this client")]
    private static partial void LogTooManyConnections(
        ILogger logger, IPAddress client, int total, int fromClient);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "{Client}: session ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, IPAddress client, string reason);

    [LoggerMessage(EventId = 403, Level = LogLevel.Error, Message = "{Client}: session failed")]
    private static partial void LogSessionFailed(ILogger logger, Exception exception, IPAddress client);
}
