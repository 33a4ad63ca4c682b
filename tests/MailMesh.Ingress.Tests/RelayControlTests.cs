using MailMesh.Ingress.Tests.Support;

namespace MailMesh.Ingress.Tests;

/// <summary>
/// Relay control as an untrusted client meets it: the trusted networks are configured empty,
/// so a loopback client is a stranger.
/// </summary>
public class RelayControlTests : IAsyncLifetime
{
    private IngressServer? _untrusting;

    public async Task InitializeAsync() => _untrusting = await IngressServer.StartAsync(s =>
    {
        s["MailMesh:Ingress:TrustedNetworks"] = "";
        s["MailMesh:Ingress:AcceptedDomains:0"] = "example.com";
        s["MailMesh:Ingress:AcceptedDomains:1"] = ".example.org";
    });

    public async Task DisposeAsync() => await _untrusting!.DisposeAsync();

    [Theory]
    [InlineData("<user@example.com>")]
    [InlineData("<USER@EXAMPLE.COM>")]
    [InlineData("<user@example.org>")]
    [InlineData("<user@deep.sub.example.org>")]
    [InlineData("<\"john doe\"@example.com>")]
    [InlineData("<Postmaster>")]
    [InlineData("<postmaster>")]
    [InlineData("<@elsewhere.net:user@example.com>")]
    public async Task Untrusted_ToAcceptedDomain_Is250(string path)
    {
        await using var wire = await SmtpWire.GreetedAsync(_untrusting!.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.net>", 250);
        await wire.CommandAsync($"RCPT TO:{path}", 250);
    }

    [Theory]
    [InlineData("<user@elsewhere.net>")]
    [InlineData("<user@example.com.elsewhere.net>")]
    [InlineData("<user@notexample.com>")]
    [InlineData("<user@sub.example.com>")]
    [InlineData("<user%elsewhere.net@example.com>")]
    [InlineData("<elsewhere.net!user@example.com>")]
    [InlineData("<\"user@elsewhere.net\"@example.com>")]
    [InlineData("<\"user%elsewhere.net\"@example.com>")]
    [InlineData("<user@[127.0.0.1]>")]
    [InlineData("<user@[IPv6:::1]>")]
    [InlineData("<@example.com:user@elsewhere.net>")]
    [InlineData("<postmaster@elsewhere.net>")]
    [InlineData("<user@localhost>")]
    [InlineData("<user@x.test>")]
    public async Task Untrusted_ToOtherDestination_Is554RelayDenied(string path)
    {
        await using var wire = await SmtpWire.GreetedAsync(_untrusting!.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.net>", 250);
        var reply = await wire.CommandAsync($"RCPT TO:{path}", 554);
        Assert.StartsWith("554 5.7.1", reply.Text);
        Assert.Contains("Relay access denied", reply.Text);
    }

    [Theory]
    [InlineData("<user@example.com.>")]
    [InlineData("<user@elsewhere.net.>")]
    public async Task TrailingDot_IsSyntaxError(string path)
    {
        await using var wire = await SmtpWire.GreetedAsync(_untrusting!.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.net>", 250);
        Assert.StartsWith("501 5.1.3", (await wire.CommandAsync($"RCPT TO:{path}", 501)).Text);
    }

    [Fact]
    public async Task Trusted_ToAnyDomain_Is250()
    {
        await using var server = await IngressServer.StartAsync();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.net>", 250);
        await wire.CommandAsync("RCPT TO:<user@elsewhere.net>", 250);
        await wire.CommandAsync("RCPT TO:<user@[127.0.0.1]>", 250);
    }

    [Fact]
    public async Task DefaultAcceptedDomains_AreTestAndLocalhost()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:TrustedNetworks"] = "");
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.net>", 250);
        await wire.CommandAsync("RCPT TO:<user@anything.test>", 250);
        await wire.CommandAsync("RCPT TO:<user@localhost>", 250);
        await wire.CommandAsync("RCPT TO:<user@sub.localhost>", 554);
        await wire.CommandAsync("RCPT TO:<user@example.com>", 554);
    }

    [Fact]
    public async Task ConfiguredTrustedNetworks_ReplaceLoopback()
    {
        await using var server = await IngressServer.StartAsync(s =>
            s["MailMesh:Ingress:TrustedNetworks:0"] = "192.0.2.0/24");
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.net>", 250);
        await wire.CommandAsync("RCPT TO:<user@elsewhere.net>", 554);
    }
}
