using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace MailMesh.Ingress.Tests.Support;

/// <summary>Takes a raw connection through STARTTLS and then speaks line by line over TLS.</summary>
internal sealed class TlsWire : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly SslStream _tls;
    private readonly StreamReader _reader;

    private TlsWire(TcpClient client, SslStream tls)
    {
        _client = client;
        _tls = tls;
        _reader = new StreamReader(tls, Encoding.Latin1);
    }

    public SslStream Stream => _tls;

    public static async Task<TlsWire> StartAsync(System.Net.IPEndPoint endpoint, string afterStartTls = "")
    {
        var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var plain = client.GetStream();
        var reader = new StreamReader(plain, Encoding.Latin1);
        async Task<string> ReplyAsync()
        {
            string line;
            do
            {
                line = (await reader.ReadLineAsync())!;
            }
            while (line[3] == '-');
            return line;
        }

        Assert.StartsWith("220 ", await ReplyAsync());
        await plain.WriteAsync(Encoding.ASCII.GetBytes("EHLO tls.client.test\r\n"));
        Assert.StartsWith("250 ", await ReplyAsync());
        await plain.WriteAsync(Encoding.ASCII.GetBytes("STARTTLS\r\n" + afterStartTls));
        Assert.Equal("220 2.0.0 Ready to start TLS", await ReplyAsync());

        // Development certificates are self-signed: the test checks the name, not the chain.
        var tls = new SslStream(plain, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
            certificate?.Subject == $"CN={IngressServer.Hostname}");
        await tls.AuthenticateAsClientAsync(IngressServer.Hostname);
        return new TlsWire(client, tls);
    }

    public async Task<string> CommandAsync(string command)
    {
        await _tls.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        var lines = new List<string>();
        string line;
        do
        {
            line = await _reader.ReadLineAsync() ?? throw new IOException("closed");
            lines.Add(line);
        }
        while (line.Length > 3 && line[3] == '-');
        return string.Join("\n", lines);
    }

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync();
        _client.Dispose();
    }
}
