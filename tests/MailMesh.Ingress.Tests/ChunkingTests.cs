using System.Text;
using MailKit.Net.Smtp;
using MailMesh.Ingress.Tests.Support;
using MimeKit;

namespace MailMesh.Ingress.Tests;

/// <summary>CHUNKING (RFC 3030): BDAT chunks of any size, refusals that still consume the chunk.</summary>
public class ChunkingTests(IngressFixture fixture) : IClassFixture<IngressFixture>
{
    private IngressServer Server => fixture.Server;

    private static async Task BeginAsync(SmtpWire wire)
    {
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
    }

    private static async Task<SmtpWire.Reply> ChunkAsync(SmtpWire wire, string content, bool last = false)
    {
        var bytes = Encoding.Latin1.GetBytes(content);
        await wire.SendAsync(Encoding.ASCII.GetBytes($"BDAT {bytes.Length}{(last ? " LAST" : "")}\r\n")
            .Concat(bytes).ToArray());
        return await wire.ReadAsync();
    }

    private static string AfterReceived(byte[] spooled)
    {
        var text = Encoding.Latin1.GetString(spooled);
        var end = text.IndexOf("\r\n", text.IndexOf("; ", StringComparison.Ordinal), StringComparison.Ordinal);
        return text[(end + 2)..];
    }

    [Fact]
    public async Task Chunks_SplitAnywhere_AreJoinedExactly()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await BeginAsync(wire);
        const string message = "Message-ID: <c@client.test>\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n"
            + "Subject: chunks\r\n\r\nline one\r\n.\r\n..dots stay as sent\r\nend\r\n";
        Assert.StartsWith("250 2.0.0", (await ChunkAsync(wire, message[..20])).Text);
        Assert.StartsWith("250 2.0.0", (await ChunkAsync(wire, message[20..79])).Text);
        Assert.StartsWith("250 2.0.0", (await ChunkAsync(wire, message[79..])).Text);
        var reply = await ChunkAsync(wire, "", last: true);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply.Text);

        var spooled = Assert.Single(await probe.TakeAsync(1));
        Assert.Equal(message, AfterReceived(spooled.Body));
    }

    [Fact]
    public async Task BareCrAndLf_AreRewrittenAsCrlf_AndEndNothing()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await BeginAsync(wire);
        var reply = await ChunkAsync(wire,
            "Message-ID: <n@client.test>\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n\r\n"
            + "bare lf\n.\nbare cr\r.\rsplit cr", last: false);
        Assert.Equal(250, reply.Code);
        Assert.Equal(250, (await ChunkAsync(wire, "\r\nno final newline", last: true)).Code);

        var spooled = Assert.Single(await probe.TakeAsync(1));
        Assert.EndsWith("\r\n\r\nbare lf\r\n.\r\nbare cr\r\n.\r\nsplit cr\r\nno final newline\r\n",
            AfterReceived(spooled.Body));
    }

    [Fact]
    public async Task Data_AfterBdat_Is503()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await BeginAsync(wire);
        Assert.Equal(250, (await ChunkAsync(wire, "Subject: x\r\n")).Code);
        Assert.StartsWith("503 5.5.1", (await wire.CommandAsync("DATA", 503)).Text);
        Assert.Equal(250, (await ChunkAsync(wire, "\r\nbody\r\n", last: true)).Code);
        Assert.Single(await probe.TakeAsync(1));
    }

    [Fact]
    public async Task Bdat_BeforeRcpt_Is503_AndItsChunkIsNotReadAsCommands()
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        var reply = await ChunkAsync(wire, "QUIT\r\n");
        Assert.StartsWith("503 5.5.1", reply.Text);
        await wire.CommandAsync("NOOP", 250);
    }

    [Fact]
    public async Task PipelinedChunks_AfterRefusedOne_AreDiscarded()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:MaxMessageSize"] = "2000");
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await BeginAsync(wire);
        var big = new string('x', 1500) + "\r\n";
        var pipelined = $"BDAT {big.Length}\r\n{big}BDAT {big.Length}\r\n{big}BDAT 6 LAST\r\nQUIT\r\n";
        await wire.SendAsync(Encoding.ASCII.GetBytes(pipelined));
        Assert.Equal(250, (await wire.ReadAsync()).Code);
        Assert.StartsWith("552 5.3.4", (await wire.ReadAsync()).Text);
        Assert.StartsWith("552 5.3.4", (await wire.ReadAsync()).Text);

        // The transaction is over; the connection is fine and the next message goes through.
        await BeginAsync(wire);
        Assert.Equal(250, (await ChunkAsync(wire, "Subject: ok\r\n\r\nok\r\n", last: true)).Code);
        Assert.Single(await probe.TakeAsync(1));
    }

    [Fact]
    public async Task ZeroLast_EndsMessage()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await BeginAsync(wire);
        Assert.Equal(250, (await ChunkAsync(wire, "Subject: zero\r\n\r\nbody\r\n")).Code);
        await wire.SendAsync("BDAT 0 LAST\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as", (await wire.ReadAsync()).Text);
        Assert.EndsWith("\r\n\r\nbody\r\n", AfterReceived(Assert.Single(await probe.TakeAsync(1)).Body));
    }

    [Theory]
    [InlineData("BDAT")]
    [InlineData("BDAT x")]
    [InlineData("BDAT 10 FIRST")]
    [InlineData("BDAT -1")]
    public async Task Bdat_Malformed_Is501AndCloses(string command)
    {
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await BeginAsync(wire);
        Assert.StartsWith("501 5.5.4", (await wire.CommandAsync(command, 501)).Text);
        Assert.True(await wire.IsClosedAsync());
    }

    [Fact]
    public async Task MailKit_PreferringBinaryData_SendsWithBdat()
    {
        await using var probe = Server.Spool();
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@client.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@example.test"));
        message.Subject = "chunked";
        message.Body = new TextPart("plain") { Text = "Chunked with BDAT.\n" };

        var logged = new MemoryStream();
        using (var client = new ChunkingClient(new MailKit.ProtocolLogger(logged)))
        {
            await client.ConnectAsync(Server.Endpoint.Address.ToString(), Server.Endpoint.Port,
                MailKit.Security.SecureSocketOptions.None);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.BinaryMime) == false);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Chunking));
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        Assert.Contains("BDAT ", Encoding.UTF8.GetString(logged.ToArray()));
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        using var expected = new MemoryStream();
        await message.WriteToAsync(options, expected);
        Assert.Equal(Encoding.UTF8.GetString(expected.ToArray()),
            AfterReceived(Assert.Single(await probe.TakeAsync(1)).Body));
    }

    /// <summary>MailKit's client with its preference for BDAT over DATA turned on.</summary>
    private sealed class ChunkingClient(MailKit.IProtocolLogger logger) : SmtpClient(logger)
    {
        protected override bool PreferSendAsBinaryData => true;
    }
}
