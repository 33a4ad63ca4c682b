using System.Text;
using MailMesh.Ingress.Tests.Support;

namespace MailMesh.Ingress.Tests;

/// <summary>
/// Only CRLF ends a line and only CRLF.CRLF ends DATA. Any bare CR or LF is refused and the
/// connection closed, so nothing smuggled after it is read as a command or spooled.
/// </summary>
public class BareNewlineTests(IngressFixture fixture) : IClassFixture<IngressFixture>
{
    private IngressServer Server => fixture.Server;

    [Theory]
    [InlineData("NOOP\n")]
    [InlineData("NOOP\rNOOP\r\n")]
    [InlineData("MAIL FROM:<a@client.test>\n")]
    public async Task Command_WithBareNewline_Is500AndClosed(string command)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.SendAsync(command + "NOOP\r\n");
        Assert.StartsWith("500 5.5.2", (await wire.ReadAsync()).Text);
        Assert.True(await wire.IsClosedAsync());
    }

    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\n.\r\n")]
    [InlineData("\r\n.\n")]
    [InlineData("\r.\r")]
    [InlineData("\r.\r\n")]
    [InlineData("\r\n.\r")]
    [InlineData("\n..\n")]
    public async Task SmuggledEndOfData_IsRefused_AndNothingAfterItIsSpooled(string fakeEnd)
    {
        await using var probe = Server.Spool();
        var before = await probe.CountAsync();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        var smuggle = "Subject: outer\r\n\r\nouter body" + fakeEnd
            + "MAIL FROM:<evil@client.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
            + "Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n";
        await wire.SendAsync(Encoding.ASCII.GetBytes(smuggle + "\r\n.\r\n"));
        var reply = await wire.ReadAsync();
        Assert.StartsWith("554 5.6.0", reply.Text);
        Assert.True(await wire.IsClosedAsync());
        Assert.Equal(before, await probe.CountAsync());
    }
}
