using System.Text;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

public sealed class MaildirDeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MessageToTestDomain_LandsInRecipientsMaildirWithTraceHeadersOnly()
    {
        await using var flow = await MailFlow.StartAsync();
        var sent = TestMessages.Awkward("alice@example.org", "Bob@example.test");

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["Bob@example.test", "carol@example.test"],
            sent, eightBit: true);

        var bob = Assert.Single(await flow.WaitForMaildirAsync("example.test/bob", 1, Wait));
        var carol = Assert.Single(await flow.WaitForMaildirAsync("example.test/carol", 1, Wait));
        var stored = await File.ReadAllBytesAsync(bob);
        var trace = "Return-Path: <alice@example.org>\r\nDelivered-To: Bob@example.test\r\n"u8.ToArray();
        Assert.True(stored.AsSpan().StartsWith(trace), Encoding.UTF8.GetString(stored[..200]));
        Assert.True(TestMessages.IsSentWithReceived(stored[trace.Length..], sent));
        Assert.StartsWith("Return-Path: <alice@example.org>\r\nDelivered-To: carol@example.test\r\nReceived: ",
            await File.ReadAllTextAsync(carol), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(flow.Mailboxes, "example.test", "bob", "tmp")));
        Assert.True(Directory.Exists(Path.Combine(flow.Mailboxes, "example.test", "bob", "cur")));
        await flow.DeliveryLog.WaitForAsync(520, Wait, "<Bob@example.test>", "250 2.0.0");
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
    }

    [Fact]
    public async Task NullReversePath_IsRecordedAsEmptyReturnPath()
    {
        await using var flow = await MailFlow.StartAsync();

        await RawSmtp.SendAsync(flow.SmtpPort, "", ["postmaster@localhost"],
            TestMessages.Plain("mailer-daemon@example.org", "postmaster@localhost", "bounce"));

        var file = Assert.Single(await flow.WaitForMaildirAsync("localhost/postmaster", 1, Wait));
        Assert.StartsWith("Return-Path: <>\r\nDelivered-To: postmaster@localhost\r\n",
            await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostileLocalParts_StayInsideTheMailboxRoot()
    {
        await using var flow = await MailFlow.StartAsync();
        string[] recipients = ["\"../../escape\"@example.test", "\"a/b\"@example.test", "\"..\"@example.test"];

        await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", recipients,
            TestMessages.Plain("alice@example.org", "x@example.test", "hostile"));

        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        foreach (var recipient in recipients)
        {
            await flow.DeliveryLog.WaitForAsync(520, Wait, $"<{recipient}>");
        }

        var parent = Directory.GetParent(flow.Mailboxes)!.FullName;
        var files = Directory.GetFiles(flow.Mailboxes, "*", SearchOption.AllDirectories);
        Assert.Equal(3, files.Length);
        Assert.All(files, file => Assert.StartsWith(flow.Mailboxes + "/example.test/", file, StringComparison.Ordinal));
        Assert.Equal(3, files.Select(Path.GetDirectoryName).Distinct().Count());
        Assert.False(Directory.Exists(Path.Combine(parent, "escape")));
    }
}
