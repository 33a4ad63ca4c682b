using System.Text;
using MailKit.Net.Smtp;
using MailMesh.Ingress.Tests.Support;
using MimeKit;

namespace MailMesh.Ingress.Tests;

/// <summary>What lands in the broker: the exact bytes sent, MailMesh's headers, the envelope.</summary>
public class SpoolingTests(IngressFixture fixture) : IClassFixture<IngressFixture>
{
    private IngressServer Server => fixture.Server;

    [Fact]
    public async Task RawMessage_IsSpooledByteForByte_AfterTheReceivedHeader()
    {
        await using var probe = Server.Spool();
        // 8-bit text, a 998-octet line, odd folding, a header with no space after the colon,
        // dot-stuffed lines and a message that ends without a blank line after the body.
        var original = "From: Ünïcode <a@client.test>\r\nTo: b@example.test\r\nDate: Thu, 3 Dec 2026 10:00:00 +0100\r\n"
            + "Message-ID: <raw.1@client.test>\r\nSubject:odd\r\n  folded\r\n\t twice\r\n"
            + "X-Long: " + new string('h', 980) + "\r\n\r\n"
            + "caf\u00e9 in latin-1\r\n.starts with a dot\r\n..two dots\r\n" + new string('z', 998) + "\r\nend";
        var bytes = Encoding.Latin1.GetBytes(original);
        var stuffed = Encoding.Latin1.GetBytes(original.Replace("\r\n.", "\r\n..") + "\r\n.\r\n");

        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test> BODY=8BITMIME", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.SendAsync(stuffed);
        var reply = await wire.ReadAsync();
        Assert.Equal(250, reply.Code);
        var queueId = reply.Text["250 2.0.0 Ok: queued as ".Length..];

        var spooled = Assert.Single(await probe.TakeAsync(1)).Body;
        var text = Encoding.Latin1.GetString(spooled);
        Assert.StartsWith($"Received: from client.test ([127.0.0.1])\r\n\tby {IngressServer.Hostname} (MailMesh) "
            + $"with ESMTP id {queueId}\r\n\tfor <b@example.test>; ", text);
        var afterReceived = text.IndexOf("\r\nFrom: ", StringComparison.Ordinal) + 2;
        Assert.Equal(bytes.Length + 2, spooled.Length - afterReceived);
        Assert.Equal(bytes.Concat("\r\n"u8.ToArray()).ToArray(), spooled[afterReceived..]);
    }

    [Fact]
    public async Task MailKitMessage_LandsWithEnvelopeAndExactContent()
    {
        await using var probe = Server.Spool();
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@client.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@example.test"));
        message.Cc.Add(new MailboxAddress("Carol", "carol@other.test"));
        message.Bcc.Add(new MailboxAddress("Dave", "dave@example.test"));
        message.Subject = "Grüße from MailKit";
        var body = new BodyBuilder { TextBody = "Hej, här är ett brev.\nLine two.\n" };
        body.Attachments.Add("blob.bin", Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray());
        message.Body = body.ToMessageBody();

        string response;
        using (var client = new SmtpClient { LocalDomain = "mailkit.client.test" })
        {
            await client.ConnectAsync(Server.Endpoint.Address.ToString(), Server.Endpoint.Port,
                MailKit.Security.SecureSocketOptions.None);
            response = await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        var spooled = await probe.TakeAsync(2);
        Assert.Equal(2, spooled.Count);
        var queueId = spooled[0].Envelope.QueueId;
        Assert.Equal($"2.0.0 Ok: queued as {queueId}", response);

        // One spool message per destination domain, both of the same message.
        var byDomain = spooled.ToDictionary(s => s.Envelope.Recipients[0].Address.Split('@')[1]);
        Assert.Equal(["bob@example.test", "dave@example.test"],
            byDomain["example.test"].Envelope.Recipients.Select(r => r.Address));
        Assert.Equal(["carol@other.test"], byDomain["other.test"].Envelope.Recipients.Select(r => r.Address));
        foreach (var part in spooled)
        {
            var envelope = part.Envelope;
            Assert.Equal(queueId, envelope.QueueId);
            Assert.Equal("alice@client.test", envelope.ReversePath);
            Assert.Equal("127.0.0.1", envelope.ClientAddress);
            Assert.Equal("mailkit.client.test", envelope.ClientHelo);
            Assert.Equal(0, envelope.Attempt);
            Assert.Equal(2, envelope.Parts);
            var now = TimeProvider.System.GetUtcNow();
            Assert.InRange(envelope.ArrivedAt, now.AddMinutes(-1), now.AddMinutes(1));
            Assert.True(part.Properties.Persistent);
            Assert.Equal("message/rfc822", part.Properties.ContentType);
            Assert.Equal(spooled[0].Body, part.Body);
        }

        Assert.Equal([1, 2], spooled.Select(s => s.Envelope.Part).Order());

        // The content is what MailKit wrote (Bcc hidden), after the one Received header.
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.HiddenHeaders.Add(HeaderId.Bcc);
        using var expected = new MemoryStream();
        await message.WriteToAsync(options, expected);
        var content = spooled[0].Body;
        var text = Encoding.UTF8.GetString(content);
        Assert.StartsWith("Received: ", text);
        Assert.DoesNotContain("\nfor <", text[..text.IndexOf("\r\nFrom:", StringComparison.Ordinal)]);
        var received = text.IndexOf("\r\n", text.IndexOf("; ", StringComparison.Ordinal), StringComparison.Ordinal) + 2;
        Assert.Equal(expected.ToArray(), content[received..]);
        Assert.DoesNotContain("dave@", text);
    }

    [Fact]
    public async Task TrustedClient_MessageWithoutIdOrDate_GetsThem()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        var reply = await wire.CommandAsync("Subject: bare\r\n\r\nbody\r\n.", 250);
        var queueId = reply.Text[^16..];

        var text = Encoding.ASCII.GetString(Assert.Single(await probe.TakeAsync(1)).Body);
        var headers = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        Assert.Contains($"\r\nMessage-ID: <{queueId}@{IngressServer.Hostname}>", headers);
        Assert.Matches(@"\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", headers);
        Assert.EndsWith("\r\n\r\nbody\r\n", text);
    }

    [Fact]
    public async Task UntrustedClient_MessageWithoutIdOrDate_IsLeftAsSent()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:TrustedNetworks"] = "");
        await using var probe = server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
        await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.CommandAsync("Subject: bare\r\n\r\nbody\r\n.", 250);

        var text = Encoding.ASCII.GetString(Assert.Single(await probe.TakeAsync(1)).Body);
        Assert.DoesNotContain("Message-ID:", text);
        Assert.DoesNotContain("\r\nDate:", text);
    }

    [Fact]
    public async Task NullSenderAndPostmaster_AreCarried()
    {
        await using var probe = Server.Spool();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        await wire.CommandAsync("MAIL FROM:<>", 250);
        await wire.CommandAsync("RCPT TO:<Postmaster>", 250);
        await wire.CommandAsync("DATA", 354);
        await wire.CommandAsync("Subject: bounce\r\n\r\nbody\r\n.", 250);

        var envelope = Assert.Single(await probe.TakeAsync(1)).Envelope;
        Assert.Equal("", envelope.ReversePath);
        Assert.Equal("Postmaster", Assert.Single(envelope.Recipients).Address);
    }

    [Fact]
    public async Task QueueIds_AreUniqueAndSortByArrival()
    {
        await using var probe = Server.Spool();
        var ids = new List<string>();
        await using var wire = await SmtpWire.GreetedAsync(Server.Endpoint);
        for (var i = 0; i < 5; i++)
        {
            await wire.CommandAsync("MAIL FROM:<a@client.test>", 250);
            await wire.CommandAsync("RCPT TO:<b@example.test>", 250);
            await wire.CommandAsync("DATA", 354);
            ids.Add((await wire.CommandAsync($"Subject: {i}\r\n\r\nbody\r\n.", 250)).Text[^16..]);
            await Task.Delay(5);
        }

        Assert.Equal(5, ids.Distinct().Count());
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        var spooled = await probe.TakeAsync(5);
        Assert.Equal(ids, spooled.Select(s => s.Envelope.QueueId));
    }
}
