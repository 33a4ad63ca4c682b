using MailMesh.Ingress.Tests.Support;

namespace MailMesh.Ingress.Tests;

/// <summary>The command sequence, pipelining and syntax replies, over a real connection.</summary>
public class SessionSequenceTests(IngressFixture fixture) : IClassFixture<IngressFixture>
{
    private IngressServer Server => fixture.Server;

    [Fact]
    public async Task Ehlo_AdvertisesExtensions()
    {
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint);
        var reply = await wire.CommandAsync("EHLO client.test", 250);
        Assert.Equal(IngressServer.Hostname, reply.Lines[0][4..]);
        Assert.Contains("250-PIPELINING", reply.Lines);
        Assert.Contains("250-SIZE 26214400", reply.Lines);
        Assert.Contains("250-8BITMIME", reply.Lines);
        Assert.Contains("250-SMTPUTF8", reply.Lines);
        Assert.Contains("250-DSN", reply.Lines);
        Assert.Contains("250-ENHANCEDSTATUSCODES", reply.Lines);
        Assert.Contains("250-CHUNKING", reply.Lines);
        Assert.Equal("250 STARTTLS", reply.Lines[^1]);
        Assert.DoesNotContain(reply.Lines, line => line.Contains("AUTH"));
    }

    [Fact]
    public async Task Greeting_NamesHost()
    {
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint, expectGreeting: false);
        var greeting = await wire.ReadAsync();
        Assert.Equal($"220 {IngressServer.Hostname} ESMTP MailMesh", greeting.Text);
    }

    [Fact]
    public async Task PipelinedGroup_IsAnsweredInOrder_AndSpooled()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint);
        await wire.SendAsync("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@example.test>\r\n"
            + "RCPT TO:<bad address>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n");
        Assert.Equal(250, (await wire.ReadAsync()).Code);
        Assert.Equal("250 2.1.0 Ok", (await wire.ReadAsync()).Text);
        Assert.Equal("250 2.1.5 Ok", (await wire.ReadAsync()).Text);
        Assert.Equal(501, (await wire.ReadAsync()).Code);
        Assert.Equal("250 2.1.5 Ok", (await wire.ReadAsync()).Text);
        Assert.Equal(354, (await wire.ReadAsync()).Code);
        await wire.SendAsync("Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n");
        var queued = await wire.ReadAsync();
        Assert.StartsWith("250 2.0.0 Ok: queued as ", queued.Text);
        Assert.Equal(221, (await wire.ReadAsync()).Code);

        var spooled = Assert.Single(await probe.TakeAsync(1));
        Assert.Equal(queued.Text[^16..], spooled.Envelope.QueueId);
        Assert.Equal(["b@example.test", "c@example.test"], spooled.Envelope.Recipients.Select(r => r.Address));
    }

    [Theory]
    [InlineData("MAIL FROM:<a@client.test>", 503, "5.5.1")]
    [InlineData("RCPT TO:<a@example.test>", 503, "5.5.1")]
    [InlineData("DATA", 503, "5.5.1")]
    public async Task Command_BeforeEhlo_Is503(string command, int code, string status)
    {
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint);
        var reply = await wire.CommandAsync(command, code);
        Assert.StartsWith($"{code} {status} ", reply.Text);
    }

    [Fact]
    public async Task Sequence_OutOfOrder_Is503()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("RCPT TO:<a@example.test>", 503);
        await wire.CommandAsync("DATA", 503);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 503);
        await wire.CommandAsync("DATA", 503);
        await wire.CommandAsync("RSET", 250);
        await wire.CommandAsync("RCPT TO:<a@example.test>", 503);
    }

    [Fact]
    public async Task Data_AfterOnlyRefusedRecipients_Is554()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.SendAsync("MAIL FROM:<a@client.test>\r\nRCPT TO:<broken>\r\nDATA\r\n");
        Assert.Equal(250, (await wire.ReadAsync()).Code);
        Assert.Equal(501, (await wire.ReadAsync()).Code);
        Assert.StartsWith("554 5.5.1", (await wire.ReadAsync()).Text);
        await wire.CommandAsync("NOOP", 250);
    }

    [Theory]
    [InlineData("FOO", 500, "5.5.1")]
    [InlineData("", 500, "5.5.1")]
    [InlineData("EXPN staff", 502, "5.5.1")]
    [InlineData("AUTH PLAIN", 502, "5.5.1")]
    [InlineData("STARTTLS now", 501, "5.5.4")]
    [InlineData("EHLO", 501, "5.5.4")]
    [InlineData("HELO", 501, "5.5.4")]
    [InlineData("MAIL TO:<a@client.test>", 501, "5.5.4")]
    [InlineData("MAIL FROM:a@client.test", 501, "5.1.7")]
    [InlineData("MAIL FROM:<a@client.test.>", 501, "5.1.7")]
    [InlineData("MAIL FROM:<Postmaster>", 501, "5.1.7")]
    [InlineData("MAIL FROM:<a@client.test> FOO=BAR", 555, "5.5.4")]
    [InlineData("MAIL FROM:<a@client.test> SIZE=abc", 501, "5.5.4")]
    [InlineData("MAIL FROM:<a@client.test> BODY=BINARYMIME", 501, "5.5.4")]
    [InlineData("MAIL FROM:<a@client.test> =x", 501, "5.5.4")]
    [InlineData("MAIL FROM:<a@client.test>SIZE=10", 501, "5.5.4")]
    [InlineData("DATA now", 503, "5.5.1")]
    [InlineData("RSET now", 501, "5.5.4")]
    public async Task Command_BadSyntax_GetsItsCode(string command, int code, string status)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        var reply = await wire.CommandAsync(command, code);
        Assert.StartsWith($"{code} {status} ", reply.Text);
    }

    [Theory]
    [InlineData("RCPT TO:b@example.test", 501, "5.1.3")]
    [InlineData("RCPT TO:<b@example.test> FOO=BAR", 555, "5.5.4")]
    [InlineData("RCPT TO:<b@exa_mple.test>", 501, "5.1.3")]
    [InlineData("RCPT TO:<>", 501, "5.1.3")]
    [InlineData("RCPT FROM:<b@example.test>", 501, "5.5.4")]
    public async Task Recipient_BadSyntax_GetsItsCode(string command, int code, string status)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        var reply = await wire.CommandAsync(command, code);
        Assert.StartsWith($"{code} {status} ", reply.Text);
    }

    [Fact]
    public async Task Mail_WithParametersAfterHelo_Is555()
    {
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint);
        await wire.CommandAsync("HELO client.test", 250);
        await wire.CommandAsync("MAIL FROM:<a@client.test> SIZE=100", 555);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
    }

    [Theory]
    [InlineData("MAIL FROM: <a@client.test>")]
    [InlineData("mail from:<a@client.test> size=100 body=8bitmime")]
    [InlineData("MAIL FROM:<>")]
    [InlineData("MAIL FROM:<@relay.test:a@client.test>")]
    public async Task Mail_AcceptedForms_Are250(string command)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync(command, 250);
    }

    [Fact]
    public async Task Commands_AnyState_Answer()
    {
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint);
        await wire.CommandAsync("NOOP", 250);
        Assert.StartsWith("252 2.5.0", (await wire.CommandAsync("VRFY someone", 252)).Text);
        Assert.Contains("MAIL", (await wire.CommandAsync("HELP", 214)).Text);
        await wire.CommandAsync("RSET", 250);
        Assert.Equal("221 2.0.0 Bye", (await wire.CommandAsync("QUIT", 221)).Text);
        Assert.True(await wire.IsClosedAsync());
    }

    [Fact]
    public async Task Ehlo_InTransaction_ResetsIt()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("EHLO again.test", 250);
        await wire.CommandAsync("DATA", 503);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
    }
}
