using System.Net;
using MailKit.Security;
using MailMesh.Delivery.Relay;
using MailMesh.Delivery.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MailMesh.Delivery.Tests;

/// <summary>
/// The connection pool on a fake clock: the relay sends to a scripted server on loopback, and
/// time moves only when a test moves it.
/// </summary>
public sealed class SmtpConnectionPoolTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static readonly SmtpConnectionKey Key =
        new("[127.0.0.1]:25", SecureSocketOptions.StartTlsWhenAvailable, null, null);

    [Fact]
    public async Task IdleConnection_WithinIdleTimeout_CarriesTheNextMessage()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.71", port);
        await using var relay = new DirectRelay(new FakeTimeProvider(), options =>
            options.ConnectionIdleTimeout = TimeSpan.FromSeconds(5));

        var first = await relay.SendAsync("127.0.0.71", port, "one@example.net");
        relay.Time.Advance(TimeSpan.FromSeconds(4));
        var second = await relay.SendAsync("127.0.0.71", port, "two@example.net");

        Assert.Equal(OutcomeKind.Delivered, first.Kind);
        Assert.Equal(OutcomeKind.Delivered, second.Kind);

        Assert.Equal(1, mx.Connections);
        Assert.Equal([1, 1], mx.Transactions.Select(transaction => transaction.Connection));
        Assert.Equal(0, mx.Quits);
        Assert.Equal(1, relay.Pool.IdleCount);
    }

    [Fact]
    public async Task IdleConnection_PastIdleTimeout_IsClosedWithQuitAndTheNextMessageOpensAnother()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.72", port);
        await using var relay = new DirectRelay(new FakeTimeProvider(), options =>
            options.ConnectionIdleTimeout = TimeSpan.FromSeconds(5));

        await relay.SendAsync("127.0.0.72", port, "one@example.net");
        relay.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(1, relay.Pool.IdleCount);
        relay.Time.Advance(TimeSpan.FromSeconds(0.2));

        Assert.Equal(0, relay.Pool.IdleCount);
        await mx.WaitUntilAsync(server => server.Quits == 1 && server.Gauge.Current == 0, Wait,
            "the idle connection ended with QUIT");
        var next = await relay.SendAsync("127.0.0.72", port, "two@example.net");
        Assert.Equal(OutcomeKind.Delivered, next.Kind);
        Assert.Equal(2, mx.Connections);
    }

    [Fact]
    public async Task ReuseLimitOfTwo_FiveMessages_ThreeConnectionsEachEndedWithQuit()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.73", port);
        await using var relay = new DirectRelay(new FakeTimeProvider(), options =>
            options.ConnectionReuseLimit = 2);

        for (var i = 1; i <= 5; i++)
        {
            var outcome = await relay.SendAsync("127.0.0.73", port, $"r{i}@example.net");
            Assert.Equal(OutcomeKind.Delivered, outcome.Kind);
        }

        Assert.Equal([1, 1, 2, 2, 3], mx.Transactions.Select(transaction => transaction.Connection));
        await mx.WaitUntilAsync(server => server.Quits == 2, Wait, "both spent connections ended with QUIT");
        Assert.Equal(1, relay.Pool.IdleCount);
    }

    [Fact]
    public async Task WorkerBoundOfOne_MessageToAnotherServer_IdleConnectionQuitBeforeTheNewOneOpens()
    {
        var port = FreePort.Next();
        var gauge = new SessionGauge();
        var shared = new ScriptedMxOptions { Gauge = gauge };
        await using var first = ScriptedMx.Start("127.0.0.74", port, options: shared);
        await using var second = ScriptedMx.Start("127.0.0.75", port, options: shared);
        await using var relay = new DirectRelay(new FakeTimeProvider(), options =>
            options.MaxConnections = 1);

        var toFirst = await relay.SendAsync("127.0.0.74", port, "a@example.net");
        var toSecond = await relay.SendAsync("127.0.0.75", port, "b@example.org");

        Assert.Equal(OutcomeKind.Delivered, toFirst.Kind);
        Assert.Equal(OutcomeKind.Delivered, toSecond.Kind);
        Assert.Equal(1, first.Quits);
        Assert.Equal(1, gauge.Most);
        Assert.Single(second.Transactions);
    }

    [Fact]
    public async Task OtherTlsMode_SameServer_GetsAConnectionOfItsOwn()
    {
        var port = FreePort.Next();
        await using var mx = ScriptedMx.Start("127.0.0.76", port);
        await using var relay = new DirectRelay(new FakeTimeProvider());

        await relay.SendAsync("127.0.0.76", port, "plain@example.net", SecureSocketOptions.None);
        await relay.SendAsync("127.0.0.76", port, "tls@example.net",
            SecureSocketOptions.StartTlsWhenAvailable);
        await relay.SendAsync("127.0.0.76", port, "plain2@example.net", SecureSocketOptions.None);

        Assert.Equal([1, 2, 1], mx.Transactions.Select(transaction => transaction.Connection));
    }

    [Fact]
    public void ConnectionKey_OtherLoginOrTlsModeOrCheckedName_NeverShared()
    {
        var alice = new NetworkCredential("alice", "secret");
        var withAlice = Key with { Credentials = alice };

        Assert.Equal(withAlice, Key with { Credentials = new NetworkCredential("alice", "secret") });
        Assert.NotEqual(withAlice, Key);
        Assert.NotEqual(withAlice, Key with { Credentials = new NetworkCredential("bob", "secret") });
        Assert.NotEqual(withAlice, Key with { Credentials = new NetworkCredential("alice", "other") });
        Assert.NotEqual(Key, Key with { Security = SecureSocketOptions.None });
        Assert.NotEqual(Key, Key with { VerifiedName = "mx.example.net" });
    }

    [Fact]
    public async Task DestinationBoundReached_NextDeliveryWaitsUntilAConnectionIsReleased()
    {
        await using var pool = NewPool(options => options.MaxConnectionsPerDestination = 1);

        var first = await pool.AcquireAsync(Key, reuse: true, CancellationToken.None);
        var waiting = pool.AcquireAsync(Key, reuse: true, CancellationToken.None);
        var elsewhere = await pool.AcquireAsync(Key with { Destination = "[127.0.0.2]:25" }, reuse: true,
            CancellationToken.None).WaitAsync(Wait);

        Assert.False(waiting.IsCompleted);
        pool.Release(first, reusable: false);
        var second = await waiting.WaitAsync(Wait);
        Assert.False(second.IsReused);
        pool.Release(second, reusable: false);
        pool.Release(elsewhere, reusable: false);
    }

    [Fact]
    public async Task WorkerBoundReached_WaitCancelledByTheAttempt_GivesUpAndTakesNoPlace()
    {
        await using var pool = NewPool(options => options.MaxConnections = 1);
        var first = await pool.AcquireAsync(Key, reuse: true, CancellationToken.None);
        using var attempt = new CancellationTokenSource();

        var waiting = pool.AcquireAsync(Key with { Destination = "[127.0.0.2]:25" }, reuse: true,
            attempt.Token);
        await attempt.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        pool.Release(first, reusable: false);
        var next = await pool.AcquireAsync(Key, reuse: true, CancellationToken.None).WaitAsync(Wait);
        pool.Release(next, reusable: false);
    }

    private static SmtpConnectionPool NewPool(Action<DeliveryOptions> configure)
    {
        var options = new DeliveryOptions();
        configure(options);
        return new SmtpConnectionPool(options, new FakeTimeProvider(),
            NullLogger<SmtpConnectionPool>.Instance);
    }
}
