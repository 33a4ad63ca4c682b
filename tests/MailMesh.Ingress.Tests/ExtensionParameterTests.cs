using System.Text;
using MailMesh.Ingress.Tests.Support;

namespace MailMesh.Ingress.Tests;

/// <summary>SMTPUTF8 (RFC 6531), BODY (RFC 6152) and DSN (RFC 3461) parameters, and what the spool keeps.</summary>
public class ExtensionParameterTests(IngressFixture fixture) : IClassFixture<IngressFixture>
{
    private IngressServer Server => fixture.Server;

    private static Task SendUtf8Async(SmtpWire wire, string line) =>
        wire.SendAsync(Encoding.UTF8.GetBytes(line + "\r\n"));

    [Fact]
    public async Task Utf8Addresses_WithSmtpUtf8_AreSpooledAndFlagged()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await SendUtf8Async(wire, "MAIL FROM:<jörg@exämple.test> SMTPUTF8 BODY=8BITMIME");
        Assert.Equal(250, (await wire.ReadAsync()).Code);
        await SendUtf8Async(wire, "RCPT TO:<用户@例子.test>");
        Assert.Equal(250, (await wire.ReadAsync()).Code);
        await wire.CommandAsync("DATA", 354);
        await wire.SendAsync(Encoding.UTF8.GetBytes("Subject: Grüße\r\n\r\nhej\r\n.\r\n"));
        Assert.Equal(250, (await wire.ReadAsync()).Code);

        var spooled = Assert.Single(await probe.TakeAsync(1));
        Assert.True(spooled.Envelope.SmtpUtf8);
        Assert.Equal("8BITMIME", spooled.Envelope.Body);
        Assert.Equal("jörg@exämple.test", spooled.Envelope.ReversePath);
        Assert.Equal("用户@例子.test", Assert.Single(spooled.Envelope.Recipients).Address);
        Assert.Contains(" with UTF8SMTP id ", Encoding.UTF8.GetString(spooled.Body));
    }

    [Fact]
    public async Task Utf8Addresses_WithoutSmtpUtf8_Are553()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await SendUtf8Async(wire, "MAIL FROM:<jörg@exämple.test>");
        Assert.StartsWith("553 5.6.7", (await wire.ReadAsync()).Text);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await SendUtf8Async(wire, "RCPT TO:<用户@例子.test>");
        Assert.StartsWith("553 5.6.7", (await wire.ReadAsync()).Text);
    }

    [Fact]
    public async Task DsnParameters_AreValidatedAndCarried()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test> RET=HDRS ENVID=QQ+2B314159", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test> NOTIFY=failure,Delay ORCPT=rfc822;B+2Bx@example.test", 250);
        await wire.CommandAsync("RCPT TO:<c@example.test> NOTIFY=NEVER", 250);
        await wire.CommandAsync("RCPT TO:<d@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.CommandAsync("Subject: dsn\r\n\r\nbody\r\n.", 250);

        var envelope = Assert.Single(await probe.TakeAsync(1)).Envelope;
        Assert.Equal("HDRS", envelope.Return);
        Assert.Equal("QQ+314159", envelope.EnvelopeId);
        Assert.False(envelope.SmtpUtf8);
        Assert.Equal(
            [("b@example.test", "FAILURE,DELAY", "rfc822;B+x@example.test"), ("c@example.test", "NEVER", null),
                ("d@example.test", null, null)],
            envelope.Recipients.Select(r => (r.Address, r.Notify, r.OriginalRecipient)));
    }

    [Theory]
    [InlineData("MAIL FROM:<a@client.test> RET=ALL", 501)]
    [InlineData("MAIL FROM:<a@client.test> RET=FULL RET=HDRS", 501)]
    [InlineData("MAIL FROM:<a@client.test> ENVID=bad=xtext", 501)]
    [InlineData("MAIL FROM:<a@client.test> ENVID=+2", 501)]
    [InlineData("MAIL FROM:<a@client.test> ENVID=+2b", 501)]
    [InlineData("MAIL FROM:<a@client.test> SMTPUTF8=YES", 501)]
    [InlineData("MAIL FROM:<a@client.test> SIZE=10 SIZE=10", 501)]
    [InlineData("MAIL FROM:<a@client.test> BODY=BINARYMIME", 501)]
    public async Task MailParameter_Malformed_IsRefused(string command, int code)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        Assert.StartsWith($"{code} 5.5.4", (await wire.CommandAsync(command, code)).Text);
    }

    [Fact]
    public async Task MailParameter_EnvidOver100_IsRefused()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test> ENVID=" + new string('x', 101), 501);
        await wire.CommandAsync("MAIL FROM:<a@client.test> ENVID=" + new string('x', 100), 250);
    }

    [Theory]
    [InlineData("NOTIFY=NEVER,SUCCESS")]
    [InlineData("NOTIFY=SUCCESS,SUCCESS")]
    [InlineData("NOTIFY=SOMETIMES")]
    [InlineData("NOTIFY=")]
    [InlineData("NOTIFY=NEVER NOTIFY=NEVER")]
    [InlineData("ORCPT=b@example.test")]
    [InlineData("ORCPT=;b@example.test")]
    [InlineData("ORCPT=rfc822;")]
    [InlineData("ORCPT=rfc822;b=x@example.test")]
    [InlineData("ORCPT=rf/c;b@example.test")]
    public async Task RecipientParameter_Malformed_Is501(string parameter)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        Assert.StartsWith("501 5.5.4", (await wire.CommandAsync($"RCPT TO:<b@example.test> {parameter}", 501)).Text);
    }

    [Fact]
    public async Task Utf8Orcpt_NeedsSmtpUtf8()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await SendUtf8Async(wire, "RCPT TO:<b@example.test> ORCPT=utf-8;jörg@example.test");
        Assert.Equal(501, (await wire.ReadAsync()).Code);
        await wire.CommandAsync("RSET", 250);
        await wire.CommandAsync("MAIL FROM:<a@client.test> SMTPUTF8", 250);
        await SendUtf8Async(wire, "RCPT TO:<b@example.test> ORCPT=utf-8;jörg@example.test");
        Assert.Equal(250, (await wire.ReadAsync()).Code);
    }
}
