using MailMesh.Ingress.Tests.Support;
using MailMesh.Testing;

namespace MailMesh.Ingress.Tests;

/// <summary>
/// The broker goes away, is blocked or is full: the client is told to retry (451/452), the
/// session stays usable, and the ingress recovers by itself. These tests use a node of their own.
/// </summary>
public class BrokerOutageTests
{
    private static async Task<SmtpWire.Reply> SendAsync(SmtpWire wire, string subject)
    {
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.SendAsync($"Subject: {subject}\r\n\r\nbody\r\n.\r\n");
        return await wire.ReadAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task BrokerStopped_Is451_AndBackIs250_WithoutRestart()
    {
        await using var node = await RabbitNode.StartAsync("outage");
        await using var server = await IngressServer.StartAsync(broker: node.AmqpUri);
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        Assert.Equal(250, (await SendAsync(wire, "before")).Code);

        await node.StopAsync();
        var refused = await SendAsync(wire, "during");
        Assert.StartsWith("451 4.3.0", refused.Text);
        await wire.CommandAsync("NOOP", 250);

        await node.StartAgainAsync();
        SmtpWire.Reply? accepted = null;
        for (var attempt = 0; attempt < 20 && accepted?.Code != 250; attempt++)
        {
            // A client retries after 451; the ingress reconnects on a later message.
            accepted = await SendAsync(wire, "after");
            if (accepted.Code != 250)
            {
                await Task.Delay(500);
            }
        }

        Assert.Equal(250, accepted!.Code);
        await using var probe = server.Spool();
        var spooled = await probe.TakeAsync(2);
        Assert.Equal(2, spooled.Count);
    }

    [Fact]
    public async Task BrokerMemoryAlarm_Is451_AndClearedIs250()
    {
        await using var node = await RabbitNode.StartAsync("alarm");
        await using var server = await IngressServer.StartAsync(broker: node.AmqpUri);
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        Assert.Equal(250, (await SendAsync(wire, "before")).Code);

        await node.CtlAsync("set_vm_memory_high_watermark", "0");
        var refused = await SendAsync(wire, "blocked");
        Assert.StartsWith("451 4.3.0", refused.Text);
        await wire.CommandAsync("NOOP", 250);

        await node.CtlAsync("set_vm_memory_high_watermark", "0.4");
        SmtpWire.Reply? accepted = null;
        for (var attempt = 0; attempt < 20 && accepted?.Code != 250; attempt++)
        {
            accepted = await SendAsync(wire, "after");
            if (accepted.Code != 250)
            {
                await Task.Delay(500);
            }
        }

        Assert.Equal(250, accepted!.Code);
    }

    [Fact]
    public async Task SpoolAtLengthLimit_Is452_AndSessionGoesOn()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Spool:MaxLength"] = "2");
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        Assert.Equal(250, (await SendAsync(wire, "one")).Code);
        Assert.Equal(250, (await SendAsync(wire, "two")).Code);

        // A quorum queue enters its reject state once a publish takes it past the limit, so
        // it may hold one message more than configured before it refuses.
        var third = await SendAsync(wire, "three");
        var fourth = await SendAsync(wire, "four");
        Assert.StartsWith("452 4.3.1", (third.Code == 452 ? third : fourth).Text);
        await wire.CommandAsync("NOOP", 250);

        await using var probe = server.Spool();
        Assert.InRange((await probe.TakeAsync(2)).Count, 2, 3);
        Assert.Equal(250, (await SendAsync(wire, "five")).Code);
    }

    [Fact]
    public async Task BrokerUnreachableAtStart_Is451_ThenServes()
    {
        await using var node = await RabbitNode.StartAsync("late");
        await node.StopAsync();
        await using var server = await IngressServer.StartAsync(broker: node.AmqpUri);
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        Assert.StartsWith("451 4.3.0", (await SendAsync(wire, "early")).Text);

        await node.StartAgainAsync();
        SmtpWire.Reply? accepted = null;
        for (var attempt = 0; attempt < 20 && accepted?.Code != 250; attempt++)
        {
            accepted = await SendAsync(wire, "later");
            if (accepted.Code != 250)
            {
                await Task.Delay(500);
            }
        }

        Assert.Equal(250, accepted!.Code);
    }

    [Fact]
    public async Task SpoolQueueDeletedByHand_Is451_ThenDeclaredAgain()
    {
        await using var server = await IngressServer.StartAsync();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await using var probe = server.Spool();
        await probe.DeleteQueuesAsync(server.QueuePrefix);

        Assert.StartsWith("451 4.3.0", (await SendAsync(wire, "unroutable")).Text);
        Assert.Equal(250, (await SendAsync(wire, "declared again")).Code);
        Assert.Single(await probe.TakeAsync(1));
    }
}
