using System.Globalization;
using System.Net;
using MailKit.Security;
using MailMesh.Delivery.Relay;
using MailMesh.Spool;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// The relay and its connection pool as the worker builds them, on a fake clock, sending straight
/// to a server on loopback without a broker in between.
/// </summary>
internal sealed class DirectRelay : IAsyncDisposable
{
    private readonly SmtpRelay _relay;
    private int _sent;

    public DirectRelay(FakeTimeProvider time, Action<DeliveryOptions>? configure = null)
    {
        Time = time;
        Options = new DeliveryOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SmtpTimeout = TimeSpan.FromSeconds(20),
        };
        configure?.Invoke(Options);
        Pool = new SmtpConnectionPool(Options, time, NullLogger<SmtpConnectionPool>.Instance);
        _relay = new SmtpRelay(Options, new DestinationBreakers(Options, time), new StageTimeouts(Options, time),
            Pool, MailFlow.Hostname, NullLogger<SmtpRelay>.Instance);
    }

    public FakeTimeProvider Time { get; }

    public DeliveryOptions Options { get; }

    public SmtpConnectionPool Pool { get; }

    /// <summary>Relays one message to <paramref name="recipient"/> through the server there.</summary>
    public async Task<RecipientOutcome> SendAsync(string address, int port, string recipient,
        SecureSocketOptions security = SecureSocketOptions.None)
    {
        var queueId = "Q" + Interlocked.Increment(ref _sent).ToString(CultureInfo.InvariantCulture);
        var target = new SmtpTarget($"smtp://{address}:{port}",
            [new SmtpEndpoint(address, IPAddress.Parse(address), port)], security, VerifyCertificate: false,
            Credentials: null, NamesEndpoint: false);
        var envelope = new SpoolEnvelope(queueId, "alice@example.org", [new SpoolRecipient(recipient)],
            Time.GetUtcNow(), 0, "127.0.0.1", "client.mailmesh.test", "", 1, 1);
        var content = TestMessages.Plain("alice@example.org", recipient, queueId);
        var outcomes = await _relay.DeliverAsync(target, envelope, envelope.Recipients, content,
            CancellationToken.None);
        return Assert.Single(outcomes);
    }

    public ValueTask DisposeAsync() => Pool.DisposeAsync();
}
