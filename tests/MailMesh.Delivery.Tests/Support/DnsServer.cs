using System.Diagnostics;
using System.Globalization;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// A real DNS server for MX tests: Debian's dnsmasq on a loopback port, answering only from the
/// records it is given and authoritative for the <c>example</c> zone, so a name there that it
/// was not given is NXDOMAIN. It asks no other server.
/// </summary>
internal sealed class DnsServer : IAsyncDisposable
{
    private const string Program = "/usr/sbin/dnsmasq";
    private readonly Process _process;
    private readonly string _config;

    private DnsServer(Process process, string config, int port)
    {
        _process = process;
        _config = config;
        Port = port;
    }

    public int Port { get; }

    /// <summary>What <c>MailMesh:Dns:Servers:0</c> is set to.</summary>
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Starts dnsmasq with <paramref name="records"/> in its configuration syntax:
    /// <c>mx-host=example,mx1.example,10</c>, <c>host-record=mx1.example,127.0.0.11</c>, and
    /// <c>mx-host=nomail.example,.,0</c> for an RFC 7505 null MX.
    /// </summary>
    public static async Task<DnsServer> StartAsync(params string[] records)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException("dnsmasq is not installed (apt-get install dnsmasq-base)");
        }

        var port = FreePort.Next();
        var config = Path.Combine(Path.GetTempPath(), $"mailmesh-dns-{Guid.NewGuid():N}.conf");
        string[] settings =
        [
            "port=" + port.ToString(CultureInfo.InvariantCulture),
            "listen-address=127.0.0.1",
            "bind-interfaces",
            "no-resolv",
            "no-hosts",
            "no-poll",
            "pid-file=",
            "local=/example/",
            .. records,
        ];
        await File.WriteAllLinesAsync(config, settings);

        var start = new ProcessStartInfo(Program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var argument in (string[])["--keep-in-foreground", "--conf-file=" + config])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dnsmasq did not start");
        var server = new DnsServer(process, config, port);
        try
        {
            // dnsmasq serves TCP beside UDP; once it accepts, it answers.
            await FreePort.WaitListeningAsync(port, TimeSpan.FromSeconds(10));
        }
        catch
        {
            await server.DisposeAsync();
            throw new InvalidOperationException("dnsmasq did not start: " + process.StandardError.ReadToEnd());
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        File.Delete(_config);
    }
}
