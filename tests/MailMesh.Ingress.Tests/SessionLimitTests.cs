using MailMesh.Ingress.Tests.Support;

namespace MailMesh.Ingress.Tests;

/// <summary>Each RFC 5321 4.5.3 limit, configured small, answered with its code.</summary>
public class SessionLimitTests
{
    [Fact]
    public async Task CommandLine_OverLimit_Is500AndSessionGoesOn()
    {
        await using var server = await IngressServer.StartAsync();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        var reply = await wire.CommandAsync("NOOP " + new string('x', 600), 500);
        Assert.StartsWith("500 5.5.2", reply.Text);
        // 512 octets with CRLF is the limit itself; one more is over it.
        await wire.CommandAsync("NOOP " + new string('x', 505), 250);
        await wire.CommandAsync("NOOP " + new string('x', 506), 500);
        await wire.CommandAsync("NOOP", 250);
    }

    [Fact]
    public async Task CommandLine_HugeWithoutNewline_IsDiscardedNotBuffered()
    {
        await using var server = await IngressServer.StartAsync();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.SendAsync("NOOP " + new string('x', 2_000_000) + "\r\nNOOP\r\n");
        Assert.Equal(500, (await wire.ReadAsync()).Code);
        Assert.Equal(250, (await wire.ReadAsync()).Code);
    }

    [Fact]
    public async Task Recipients_PastLimit_Are452()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxRecipients"] = "100");
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        for (var i = 0; i < 100; i++)
        {
            await wire.CommandAsync($"RCPT TO:<r{i}@example.test>", 250);
        }

        Assert.StartsWith("452 4.5.3", (await wire.CommandAsync("RCPT TO:<r100@example.test>", 452)).Text);
        await wire.CommandAsync("RCPT TO:<r5@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.CommandAsync("Subject: many\r\n\r\nx\r\n.", 250);

        // 100 recipients of one domain, at most 50 per spool message.
        var spooled = await probe.TakeAsync(2);
        Assert.Equal([50, 50], spooled.Select(s => s.Envelope.Recipients.Count));
        Assert.Equal(100, spooled.SelectMany(s => s.Envelope.Recipients).Select(r => r.Address).Distinct().Count());
    }

    [Fact]
    public async Task MaxRecipients_Under100_FailsAtStartup()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(
            () => IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxRecipients"] = "99"));
        Assert.Contains("MaxRecipients", error.Message);
    }

    [Theory]
    [InlineData("MailMesh:Ingress:TrustedNetworks:0", "10.0.0.0/33", "invalid prefix length")]
    [InlineData("MailMesh:Ingress:Address", "localhost", "is not an IP address")]
    [InlineData("MailMesh:Hostname", "bad host!", "must be a domain name")]
    [InlineData("MailMesh:Ingress:MaxMessageSize", "10", "MaxMessageSize")]
    public async Task BadSetting_FailsAtStartup_NamingIt(string key, string value, string message)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => IngressServer.StartAsync(s => s[key] = value));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task DeclaredSize_OverLimit_Is552AtMail()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxMessageSize"] = "2000");
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        Assert.Contains("250-SIZE 2000", (await wire.CommandAsync("EHLO again.test", 250)).Lines);
        var reply = await wire.CommandAsync("MAIL FROM:<a@client.test> SIZE=2001", 552);
        Assert.StartsWith("552 5.3.4", reply.Text);
        await wire.CommandAsync("MAIL FROM:<a@client.test> SIZE=2000", 250);
    }

    [Fact]
    public async Task Content_OverLimit_Is552AfterDot_AndNothingSpooled()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxMessageSize"] = "2000");
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        var line = new string('a', 98) + "\r\n";
        var reply = await wire.CommandAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 30)) + ".", 552);
        Assert.StartsWith("552 5.3.4", reply.Text);
        await wire.CommandAsync("NOOP", 250);
        Assert.Equal(0u, await probe.CountAsync());
    }

    [Fact]
    public async Task TextLine_OverLimit_Is500AfterDot()
    {
        await using var server = await IngressServer.StartAsync();
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        var reply = await wire.CommandAsync("Subject: long\r\n\r\n" + new string('a', 20_000) + "\r\n.", 500);
        Assert.StartsWith("500 5.5.2", reply.Text);
        Assert.Equal(0u, await probe.CountAsync());
    }

    [Fact]
    public async Task ReceivedHeaders_Over50_Is554MailLoop()
    {
        await using var server = await IngressServer.StartAsync();
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        string Message(int hops) =>
            string.Concat(Enumerable.Range(0, hops).Select(i => $"Received: from hop{i}.test by x; date\r\n"))
            + "Subject: loop\r\n\r\nbody\r\n.";

        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        Assert.StartsWith("554 5.4.6", (await wire.CommandAsync(Message(51), 554)).Text);

        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.CommandAsync(Message(50), 250);
        Assert.Single(await probe.TakeAsync(1));
    }

    [Fact]
    public async Task Errors_PastLimit_Close421()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxErrors"] = "3");
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("FOO", 500);
        await wire.CommandAsync("FOO", 500);
        await wire.SendAsync("FOO\r\n");
        Assert.Equal(500, (await wire.ReadAsync()).Code);
        Assert.StartsWith("421 4.7.0", (await wire.ReadAsync()).Text);
        Assert.True(await wire.IsClosedAsync());
    }

    [Fact]
    public async Task Connections_PerClientOverLimit_Get421()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxConnectionsPerClient"] = "2");
        await using var first = await SmtpWire.ConnectAsync(server.Endpoint);
        await using var second = await SmtpWire.ConnectAsync(server.Endpoint);
        await using var third = await SmtpWire.ConnectAsync(server.Endpoint, expectGreeting: false);
        Assert.StartsWith("421 4.7.0", (await third.ReadAsync()).Text);
        Assert.True(await third.IsClosedAsync());

        await first.CommandAsync("QUIT", 221);
        Assert.True(await first.IsClosedAsync());
        await Task.Delay(200);
        await using var fourth = await SmtpWire.ConnectAsync(server.Endpoint);
    }

    [Fact]
    public async Task Connections_InAllOverLimit_Get421()
    {
        await using var server = await IngressServer.StartAsync(s =>
        {
            s["MailMesh:Ingress:MaxConnections"] = "1";
            s["MailMesh:Ingress:MaxConnectionsPerClient"] = "10";
        });
        await using var first = await SmtpWire.ConnectAsync(server.Endpoint);
        await using var second = await SmtpWire.ConnectAsync(server.Endpoint, expectGreeting: false);
        Assert.StartsWith("421 4.3.2", (await second.ReadAsync()).Text);
    }

    [Fact]
    public async Task IdleClient_PastCommandTimeout_Gets421AndClose()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:CommandTimeout"] = "00:00:01");
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        var reply = await wire.ReadAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("421 4.4.2", reply.Text);
        Assert.True(await wire.IsClosedAsync());
    }

    [Fact]
    public async Task StalledData_PastDataBlockTimeout_Gets421AndNothingSpooled()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:DataBlockTimeout"] = "00:00:01");
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.SendAsync("Subject: stalled\r\n\r\nhalf a mess");
        Assert.StartsWith("421 4.4.2", (await wire.ReadAsync(TimeSpan.FromSeconds(10))).Text);
        Assert.Equal(0u, await probe.CountAsync());
    }
}
