using System.Text;
using MailMesh.Ingress.Tests.Support;

namespace MailMesh.Ingress.Tests;

/// <summary>Real SMTP clients against the ingress: swaks, and Postfix's smtp-source under load.</summary>
public class RealClientTests
{
    [Fact]
    public async Task Swaks_PipelinedMessage_IsSpooled()
    {
        await using var server = await IngressServer.StartAsync();
        await using var probe = server.Spool();
        var (exit, output) = await Tool.RunAsync("swaks", TimeSpan.FromSeconds(60),
            "--server", $"{server.Endpoint.Address}:{server.Endpoint.Port}", "--pipeline",
            "--helo", "swaks.client.test", "--from", "sender@client.test", "--to", "rcpt@example.test",
            "--header", "Subject: from swaks", "--body", "Body line\n.dot line\n");
        Assert.True(exit == 0, output);
        Assert.Contains("<-  250 2.0.0 Ok: queued as ", output);

        var spooled = Assert.Single(await probe.TakeAsync(1));
        Assert.Equal("sender@client.test", spooled.Envelope.ReversePath);
        Assert.Equal("swaks.client.test", spooled.Envelope.ClientHelo);
        var text = Encoding.ASCII.GetString(spooled.Body);
        Assert.Contains("Subject: from swaks\r\n", text);
        Assert.Contains("\r\n.dot line\r\n", text);
    }

    [Fact]
    public async Task Swaks_RelayAttemptFromStranger_IsDenied()
    {
        await using var server = await IngressServer.StartAsync(s => s["MailMesh:Ingress:TrustedNetworks"] = "");
        var (exit, output) = await Tool.RunAsync("swaks", TimeSpan.FromSeconds(60),
            "--server", $"{server.Endpoint.Address}:{server.Endpoint.Port}",
            "--from", "sender@client.test", "--to", "victim@elsewhere.net");
        Assert.NotEqual(0, exit);
        Assert.Contains("<** 554 5.7.1 <victim@elsewhere.net>: Relay access denied", output);
    }

    [Fact]
    public async Task SmtpSource_ConcurrentSessions_EveryMessageSpooled()
    {
        const int messages = 400;
        await using var server = await IngressServer.StartAsync();
        await using var probe = server.Spool();
        var (exit, output) = await Tool.RunAsync("smtp-source", TimeSpan.FromMinutes(3),
            "-s", "20", "-m", messages.ToString(), "-l", "4096", "-c",
            "-f", "load@client.test", "-t", "sink@example.test",
            $"{server.Endpoint.Address}:{server.Endpoint.Port}");
        Assert.True(exit == 0, output);

        var spooled = await probe.TakeAsync(messages, TimeSpan.FromSeconds(30));
        Assert.Equal(messages, spooled.Count);
        Assert.Equal(messages, spooled.Select(s => s.Envelope.QueueId).Distinct().Count());
        Assert.All(spooled, s => Assert.Equal("sink@example.test", Assert.Single(s.Envelope.Recipients).Address));
    }
}
