using System.Security.Authentication;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailMesh.Ingress.Security;
using MailMesh.Ingress.Tests.Support;
using MimeKit;

namespace MailMesh.Ingress.Tests;

/// <summary>STARTTLS (RFC 3207), AUTH PLAIN and LOGIN (RFC 4954), and the submission listener.</summary>
public class TlsAndAuthTests : IAsyncLifetime
{
    private const string Password = "correct horse battery";
    private IngressServer? _server;

    private IngressServer Server => _server!;

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    // The relay listener trusts nobody here, so relaying needs AUTH.
    public async Task InitializeAsync() => _server = await IngressServer.StartAsync(s =>
    {
        s["MailMesh:Ingress:TrustedNetworks"] = "";
        s["MailMesh:Ingress:SubmissionPort"] = "0";
        s["MailMesh:Ingress:Users:0:Name"] = "alice";
        s["MailMesh:Ingress:Users:0:PasswordHash"] = PasswordHash.Create(Password);
        s["MailMesh:Ingress:AuthFailureLimit"] = "3";
    });

    public async Task DisposeAsync() => await Server.DisposeAsync();

    [Fact]
    public async Task Auth_BeforeStartTls_IsNotOffered_And538()
    {
        await using var wire = await SmtpWire.ConnectAsync(Server.Endpoint);
        var ehlo = await wire.CommandAsync("EHLO client.test", 250);
        Assert.Contains("250-STARTTLS", ehlo.Lines.Select(l => l.Replace("250 ", "250-")));
        Assert.DoesNotContain(ehlo.Lines, line => line.Contains("AUTH"));
        Assert.StartsWith("538 5.7.11", (await wire.CommandAsync("AUTH PLAIN " + Base64($"\0alice\0{Password}"), 538)).Text);
    }

    [Fact]
    public async Task StartTls_DiscardsWhatWasPipelinedBeforeTheHandshake()
    {
        // A command sent in clear after STARTTLS must never run inside the TLS session.
        await using var wire = await TlsWire.StartAsync(Server.Endpoint);
        var ehlo = await wire.CommandAsync("EHLO tls.client.test");
        Assert.Contains("AUTH PLAIN LOGIN", ehlo);
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Equal("503 5.5.1 Error: TLS already active", await wire.CommandAsync("STARTTLS"));
    }

    [Fact]
    public async Task StartTls_WithPipelinedCommand_DropsIt()
    {
        await using var probe = Server.Spool();
        var injected = "MAIL FROM:<evil@client.test>\r\nRCPT TO:<victim@example.test>\r\n";
        await using var wire = await TlsWire.StartAsync(Server.Endpoint, injected);

        // After TLS the session starts again from EHLO: the injected MAIL did not count.
        Assert.StartsWith("503 5.5.1", await wire.CommandAsync("RCPT TO:<b@example.test>"));
        Assert.StartsWith("250", await wire.CommandAsync("EHLO tls.client.test"));
        Assert.StartsWith("503 5.5.1", await wire.CommandAsync("DATA"));
    }

    [Fact]
    public async Task StartTls_NegotiatesTls12OrNewer()
    {
        await using var wire = await TlsWire.StartAsync(Server.Endpoint);
        Assert.True(wire.Stream.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13, wire.Stream.SslProtocol.ToString());
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public async Task AuthenticatedClient_MayRelay_AndReceivedSaysEsmtpsa(string mechanism)
    {
        await using var probe = Server.Spool();
        await using var wire = await TlsWire.StartAsync(Server.Endpoint);
        await wire.CommandAsync("EHLO tls.client.test");
        Assert.StartsWith("554 5.7.1", await RelayAttemptAsync(wire));
        await wire.CommandAsync("RSET");
        if (mechanism == "PLAIN")
        {
            Assert.Equal("334 ", await wire.CommandAsync("AUTH PLAIN"));
            Assert.StartsWith("235 2.7.0", await wire.CommandAsync(Base64($"\0alice\0{Password}")));
        }
        else
        {
            Assert.Equal("334 VXNlcm5hbWU6", await wire.CommandAsync("AUTH LOGIN"));
            Assert.Equal("334 UGFzc3dvcmQ6", await wire.CommandAsync(Base64("alice")));
            Assert.StartsWith("235 2.7.0", await wire.CommandAsync(Base64(Password)));
        }

        Assert.StartsWith("250", await RelayAttemptAsync(wire));
        Assert.StartsWith("354", await wire.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0", await wire.CommandAsync("Subject: relayed\r\n\r\nbody\r\n."));
        var text = Encoding.ASCII.GetString(Assert.Single(await probe.TakeAsync(1)).Body);
        Assert.Contains(" with ESMTPSA id ", text);
    }

    private static async Task<string> RelayAttemptAsync(TlsWire wire)
    {
        Assert.StartsWith("250", await wire.CommandAsync("MAIL FROM:<alice@client.test>"));
        return await wire.CommandAsync("RCPT TO:<someone@elsewhere.net>");
    }

    [Theory]
    [InlineData("AUTH PLAIN {0}", "\0alice\0wrong")]
    [InlineData("AUTH PLAIN {0}", "\0mallory\0" + Password)]
    [InlineData("AUTH PLAIN {0}", "bob\0alice\0" + Password)]
    [InlineData("AUTH PLAIN {0}", "alice" + Password)]
    public async Task Auth_BadCredentials_Are535(string command, string credentials)
    {
        await using var server = await IngressServer.StartAsync(s =>
        {
            s["MailMesh:Ingress:Users:0:Name"] = "alice";
            s["MailMesh:Ingress:Users:0:PasswordHash"] = PasswordHash.Create(Password);
        });
        await using var wire = await TlsWire.StartAsync(server.Endpoint);
        await wire.CommandAsync("EHLO tls.client.test");
        Assert.StartsWith("535 5.7.8", await wire.CommandAsync(string.Format(command, Base64(credentials))));
    }

    [Fact]
    public async Task Auth_CancelledOrNotBase64_Is501_AndSessionGoesOn()
    {
        await using var wire = await TlsWire.StartAsync(Server.Endpoint);
        await wire.CommandAsync("EHLO tls.client.test");
        await wire.CommandAsync("AUTH LOGIN");
        Assert.StartsWith("501 5.0.0", await wire.CommandAsync("*"));
        await wire.CommandAsync("AUTH PLAIN");
        Assert.StartsWith("501 5.5.2", await wire.CommandAsync("not base64!"));
        Assert.StartsWith("504 5.5.4", await wire.CommandAsync("AUTH CRAM-MD5"));
        Assert.StartsWith("250", await wire.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Auth_RepeatedFailures_CutTheClientOff()
    {
        await using var server = await IngressServer.StartAsync(s =>
        {
            s["MailMesh:Ingress:Users:0:Name"] = "alice";
            s["MailMesh:Ingress:Users:0:PasswordHash"] = PasswordHash.Create(Password);
            s["MailMesh:Ingress:AuthFailureLimit"] = "2";
        });
        await using (var wire = await TlsWire.StartAsync(server.Endpoint))
        {
            await wire.CommandAsync("EHLO tls.client.test");
            Assert.StartsWith("535", await wire.CommandAsync("AUTH PLAIN " + Base64("\0alice\0guess1")));
            var second = await wire.CommandAsync("AUTH PLAIN " + Base64("\0alice\0guess2"));
            Assert.StartsWith("535", second);
        }

        // A new connection from the same address is refused AUTH, even with the right password.
        await using var again = await TlsWire.StartAsync(server.Endpoint);
        await again.CommandAsync("EHLO tls.client.test");
        Assert.StartsWith("421 4.7.0", await again.CommandAsync("AUTH PLAIN " + Base64($"\0alice\0{Password}")));
    }

    [Fact]
    public async Task Submission_RequiresAuth_ThenRelays()
    {
        await using var probe = Server.Spool();
        var endpoint = Server.SubmissionEndpoint!;
        await using (var wire = await SmtpWire.GreetedAsync(endpoint))
        {
            Assert.StartsWith("530 5.7.0", (await wire.CommandAsync("MAIL FROM:<alice@client.test>", 530)).Text);
        }

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@client.test"));
        message.To.Add(MailboxAddress.Parse("friend@elsewhere.net"));
        message.Subject = "submitted";
        message.Body = new TextPart("plain") { Text = "Sent through submission with STARTTLS and AUTH.\n" };
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, certificate, _, _) =>
                certificate?.Subject == $"CN={IngressServer.Hostname}";
            await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.StartTls);
            Assert.True(client.IsSecure);
            await client.AuthenticateAsync("alice", Password);
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        var spooled = Assert.Single(await probe.TakeAsync(1));
        Assert.Equal("friend@elsewhere.net", Assert.Single(spooled.Envelope.Recipients).Address);
        Assert.Contains(" with ESMTPSA id ", Encoding.ASCII.GetString(spooled.Body));
    }

    [Fact]
    public async Task Swaks_WithTlsAndAuth_Relays()
    {
        await using var probe = Server.Spool();
        var (exit, output) = await Tool.RunAsync("swaks", TimeSpan.FromSeconds(60),
            "--server", $"{Server.Endpoint.Address}:{Server.Endpoint.Port}", "-tls",
            "-a", "LOGIN", "-au", "alice", "-ap", Password,
            "--from", "alice@client.test", "--to", "friend@elsewhere.net");
        Assert.True(exit == 0, output);
        Assert.Contains("235 2.7.0 Authentication successful", output);
        Assert.Single(await probe.TakeAsync(1));
    }

    [Fact]
    public async Task Secrets_NeverReachTheLog_EvenAtTrace()
    {
        var logs = new CapturedLogs();
        await using var server = await IngressServer.StartAsync(s =>
        {
            s["MailMesh:Ingress:Users:0:Name"] = "alice";
            s["MailMesh:Ingress:Users:0:PasswordHash"] = PasswordHash.Create(Password);
        }, logs: logs);
        await using (var wire = await TlsWire.StartAsync(server.Endpoint))
        {
            await wire.CommandAsync("EHLO tls.client.test");
            Assert.StartsWith("535", await wire.CommandAsync("AUTH PLAIN " + Base64("\0alice\0wrong password")));
            await wire.CommandAsync("AUTH LOGIN");
            await wire.CommandAsync(Base64("alice"));
            Assert.StartsWith("235", await wire.CommandAsync(Base64(Password)));
        }

        Assert.Contains(logs.Lines, line => line.Contains("authenticated as alice"));
        Assert.Contains(logs.Lines, line => line.Contains("authentication failed for 'alice'"));
        foreach (var secret in new[] { Password, Base64(Password), "wrong password",
            Base64("\0alice\0wrong password") })
        {
            Assert.DoesNotContain(logs.Lines, line => line.Contains(secret));
        }
    }

    [Fact]
    public async Task StartTls_PresentsTheConfiguredCertificate()
    {
        var dir = Directory.CreateTempSubdirectory("mailmesh-tls-").FullName;
        var (exit, output) = await Tool.RunAsync("openssl", TimeSpan.FromSeconds(60),
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", $"/CN={IngressServer.Hostname}/O=Configured", "-keyout", Path.Combine(dir, "key.pem"),
            "-out", Path.Combine(dir, "cert.pem"));
        Assert.True(exit == 0, output);
        await using var server = await IngressServer.StartAsync(s =>
        {
            s["MailMesh:Ingress:CertificateFile"] = Path.Combine(dir, "cert.pem");
            s["MailMesh:Ingress:KeyFile"] = Path.Combine(dir, "key.pem");
        });

        using var client = new SmtpClient();
        string? subject = null;
        client.ServerCertificateValidationCallback = (_, certificate, _, _) =>
        {
            subject = certificate?.Subject;
            return true;
        };
        await client.ConnectAsync(server.Endpoint.Address.ToString(), server.Endpoint.Port,
            SecureSocketOptions.StartTls);
        Assert.Contains("O=Configured", subject);
        await client.DisconnectAsync(true);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task HashPasswordCommand_PrintsAHashThatVerifies()
    {
        var dll = typeof(SmtpServer).Assembly.Location;
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("hash-password");
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteLineAsync("s3cret!");
        process.StandardInput.Close();
        var hash = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        Assert.True(PasswordHash.Verify("s3cret!", hash), hash);
    }

    [Fact]
    public void PasswordHash_VerifiesOnlyItsPassword()
    {
        var hash = PasswordHash.Create("secret");
        Assert.StartsWith("pbkdf2-sha256$", hash);
        Assert.True(PasswordHash.Verify("secret", hash));
        Assert.False(PasswordHash.Verify("Secret", hash));
        Assert.NotEqual(hash, PasswordHash.Create("secret"));
        Assert.False(PasswordHash.Verify("secret", "secret"));
    }
}
