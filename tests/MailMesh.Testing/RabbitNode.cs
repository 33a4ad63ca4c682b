using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace MailMesh.Testing;

/// <summary>
/// A private RabbitMQ node for tests, run from Debian's rabbitmq-server package as the rabbitmq
/// user, with its own ports, data directory and Erlang cookie. Tests that stop and restart the
/// broker use one of these; everything else shares <see cref="TestBroker"/>.
/// </summary>
public sealed class RabbitNode : IAsyncDisposable
{
    private const string BinDir = "/usr/lib/rabbitmq/bin";
    private const int StartAttempts = 3;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CtlTimeout = TimeSpan.FromMinutes(2);

    // Runs as the rabbitmq user between runuser and rabbitmq-server. It sends all output to the
    // node's log (so no process keeps the test host's stdout pipe open, which would stall the
    // test runner), runs the node from its data directory (Erlang writes crash dumps to the cwd)
    // and, once the owning test process is gone, stops the node and deletes its data, so that a
    // test run that is killed leaves neither brokers nor temp directories behind.
    private const string Wrapper = """
        exec </dev/null >>"$1" 2>&1
        cd "${1%/*}"
        "$0" &
        server=$!
        while kill -0 "$server" 2>/dev/null; do
            if [ ! -d "/proc/$2" ]; then
                echo "owner process $2 is gone, stopping the node"
                kill -TERM "$server"
                orphaned=1
                break
            fi
            sleep 1
        done
        wait "$server"
        status=$?
        if [ -n "$orphaned" ]; then
            rm -rf -- "${1%/*}"
        fi
        exit "$status"
        """;

    private readonly string _home;
    private Process? _server;
    private bool _disposed;

    private RabbitNode(string nodeName, string dataDirectory, int port, int distributionPort)
    {
        NodeName = nodeName;
        DataDirectory = dataDirectory;
        Port = port;
        DistributionPort = distributionPort;
        AmqpUri = new Uri($"amqp://guest:guest@127.0.0.1:{port}/");
        _home = Path.Combine(dataDirectory, "home");
    }

    /// <summary>Erlang node name, e.g. mailmesh-restart-1234-ab12cd@localhost.</summary>
    public string NodeName { get; }

    /// <summary>Mnesia data, logs and the node's out.log; kept across stop and start.</summary>
    public string DataDirectory { get; }

    /// <summary>AMQP port on 127.0.0.1.</summary>
    public int Port { get; }

    public int DistributionPort { get; }

    /// <summary>amqp://guest:guest@127.0.0.1:PORT/ (guest is allowed from loopback).</summary>
    public Uri AmqpUri { get; }

    public string LogPath => Path.Combine(DataDirectory, "out.log");

    /// <summary>
    /// Starts a fresh node and waits until it accepts connections. <paramref name="label"/> goes into
    /// the node name and data directory, to tell nodes apart in ps and /tmp.
    /// </summary>
    public static async Task<RabbitNode> StartAsync(string label, CancellationToken ct = default)
    {
        CheckPrerequisites();
        var safeLabel = Sanitize(label);
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var nodeName = $"mailmesh-{safeLabel}-{Environment.ProcessId}-{suffix}@localhost";

        for (var attempt = 1; ; attempt++)
        {
            var (port, distributionPort) = PickPorts();
            var directory = Directory.CreateTempSubdirectory($"mailmesh-rabbit-{safeLabel}-").FullName;
            var node = new RabbitNode(nodeName, directory, port, distributionPort);
            try
            {
                await node.PrepareAsync(ct);
                await node.LaunchAsync(ct);
                return node;
            }
            catch (Exception e) when (attempt < StartAttempts && node.LostPortRace(e))
            {
                // Another process bound one of the ports between the check and the node's
                // start; try again with new ones.
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Stops the node gracefully and waits until its AMQP port is closed. Data is kept.</summary>
    public async Task StopAsync()
    {
        var server = _server;
        if (server is null)
        {
            return;
        }

        using (var timeout = new CancellationTokenSource(StopTimeout))
        {
            try
            {
                // shutdown returns once the node's OS process has exited.
                var (exitCode, _, _) = await RunCtlAsync(["-q", "shutdown"], timeout.Token);
                if (exitCode != 0 && !server.HasExited)
                {
                    // The node did not answer and is of no use any more; end it the hard way.
                    server.Kill(entireProcessTree: true);
                }

                await server.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync(CancellationToken.None);
            }
            finally
            {
                server.Dispose();
                _server = null;
            }
        }

        using var portTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await WaitForPortClosedAsync(Port, portTimeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"Port {Port} of stopped RabbitMQ node {NodeName} still accepts connections.");
        }
    }

    /// <summary>Starts the stopped node again, with the same name, ports and data.</summary>
    public async Task StartAgainAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_server is not null)
        {
            throw new InvalidOperationException($"RabbitMQ node {NodeName} is already running.");
        }

        await LaunchAsync(CancellationToken.None);
    }

    /// <summary>Runs rabbitmqctl against this node and returns its standard output.</summary>
    public async Task<string> CtlAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(CtlTimeout);
        var (exitCode, stdout, stderr) = await RunCtlAsync(args, timeout.Token);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"rabbitmqctl {string.Join(' ', args)} failed on {NodeName} with exit code {exitCode}: " +
                stderr.Trim());
        }

        return stdout;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await StopAsync();
        }
        catch (Exception)
        {
            // Disposal runs during test cleanup, where a second failure would only hide the first.
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public override string ToString() => $"{NodeName} ({AmqpUri})";

    private static void CheckPrerequisites()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Path.Combine(BinDir, "rabbitmq-server")))
        {
            throw new InvalidOperationException(
                "The tests need RabbitMQ from Debian's package (apt-get install rabbitmq-server), " +
                "or MAILMESH_TEST_AMQP_URI pointing at a running broker.");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "Starting a test broker needs root, to run it as the rabbitmq user. Run the tests as " +
                "root (./test.sh), or set MAILMESH_TEST_AMQP_URI to a running broker.");
        }
    }

    private static string Sanitize(string label)
    {
        var builder = new StringBuilder();
        foreach (var c in label.ToLowerInvariant())
        {
            if (builder.Length < 24 && (char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                builder.Append(c);
            }
        }

        return builder.Length == 0 ? "node" : builder.ToString();
    }

    // Ports come from below Linux's ephemeral range (32768 and up): once the node is stopped, an
    // outgoing connection could otherwise take its port and StartAgainAsync would fail.
    private static (int Port, int DistributionPort) PickPorts()
    {
        var port = PickFreePort(exclude: -1);
        return (port, PickFreePort(exclude: port));
    }

    private static int PickFreePort(int exclude)
    {
        for (var i = 0; i < 500; i++)
        {
            var candidate = RandomNumberGenerator.GetInt32(20000, 32000);
            if (candidate != exclude && IsFree(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free TCP port found in 20000-31999.");
    }

    // Binding to the wildcard address fails if anything listens on the port on any address,
    // which covers both the loopback AMQP listener and the distribution listener on all addresses.
    private static bool IsFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task PrepareAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_home);
        var cookie = Path.Combine(_home, ".erlang.cookie");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(20));
        await File.WriteAllTextAsync(cookie, secret, ct);
        if (OperatingSystem.IsLinux())
        {
            // Erlang refuses a cookie that others can read.
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
        }

        // Same message size ceiling as infra/rabbitmq/rabbitmq.conf, so tests see the limits
        // production has.
        await File.WriteAllTextAsync(
            Path.Combine(DataDirectory, "rabbitmq.conf"), "max_message_size = 67108864\n", ct);

        var (exitCode, _, stderr) = await RunAsync(
            "chown", ["-R", "rabbitmq:rabbitmq", DataDirectory], ct);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"chown of {DataDirectory} failed: {stderr.Trim()}");
        }
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        var info = new ProcessStartInfo("runuser")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-u");
        info.ArgumentList.Add("rabbitmq");
        info.ArgumentList.Add("--");
        info.ArgumentList.Add("env");
        info.ArgumentList.Add($"HOME={_home}");
        info.ArgumentList.Add($"RABBITMQ_NODENAME={NodeName}");
        info.ArgumentList.Add("RABBITMQ_NODE_IP_ADDRESS=127.0.0.1");
        info.ArgumentList.Add($"RABBITMQ_NODE_PORT={Port}");
        info.ArgumentList.Add($"RABBITMQ_DIST_PORT={DistributionPort}");
        info.ArgumentList.Add($"RABBITMQ_MNESIA_BASE={Path.Combine(DataDirectory, "mnesia")}");
        info.ArgumentList.Add($"RABBITMQ_LOG_BASE={Path.Combine(DataDirectory, "log")}");
        info.ArgumentList.Add($"RABBITMQ_PID_FILE={Path.Combine(DataDirectory, "node.pid")}");
        info.ArgumentList.Add(
            $"RABBITMQ_ENABLED_PLUGINS_FILE={Path.Combine(DataDirectory, "enabled_plugins")}");
        info.ArgumentList.Add($"RABBITMQ_CONFIG_FILE={Path.Combine(DataDirectory, "rabbitmq.conf")}");
        info.ArgumentList.Add("bash");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Wrapper);
        info.ArgumentList.Add(Path.Combine(BinDir, "rabbitmq-server"));
        info.ArgumentList.Add(LogPath);
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

        var server = Process.Start(info)
            ?? throw new InvalidOperationException("Could not start runuser for RabbitMQ.");
        server.StandardInput.Close();
        // runuser writes here only if it cannot start the wrapper; the node itself logs to out.log.
        var early = new StringBuilder();
        server.OutputDataReceived += (_, e) => Append(early, e.Data);
        server.ErrorDataReceived += (_, e) => Append(early, e.Data);
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        _server = server;

        try
        {
            await AwaitStartupAsync(server, ct);
        }
        catch
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync(CancellationToken.None);
            }

            server.Dispose();
            _server = null;
            lock (early)
            {
                if (early.Length > 0)
                {
                    File.AppendAllText(LogPath, early.ToString());
                }
            }

            throw;
        }
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            if (buffer.Length < 16 * 1024)
            {
                buffer.AppendLine(line);
            }
        }
    }

    private async Task AwaitStartupAsync(Process server, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(StartupTimeout);
        try
        {
            // await_startup gives up at once while the node has not registered with epmd yet, so
            // it is retried until the node is up, its process has died, or time runs out.
            while (true)
            {
                if (server.HasExited)
                {
                    throw StartupFailure($"its process exited with code {server.ExitCode}");
                }

                var (exitCode, _, _) = await RunCtlAsync(
                    ["-q", "await_startup", "--timeout", "10"], timeout.Token);
                if (exitCode == 0)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw StartupFailure($"it was not up after {clock.Elapsed.TotalSeconds:0} s");
        }
    }

    private InvalidOperationException StartupFailure(string reason)
    {
        string tail;
        try
        {
            var lines = File.ReadAllLines(LogPath);
            tail = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 30)));
        }
        catch (IOException e)
        {
            tail = $"(no log: {e.Message})";
        }

        return new InvalidOperationException(
            $"RabbitMQ node {NodeName} (AMQP port {Port}, distribution port {DistributionPort}) did " +
            $"not start: {reason}. Last lines of {LogPath}:\n{tail}");
    }

    private bool LostPortRace(Exception e) =>
        e is InvalidOperationException && File.Exists(LogPath) &&
        File.ReadAllText(LogPath).Contains("eaddrinuse", StringComparison.Ordinal);

    private static async Task WaitForPortClosedAsync(int port, CancellationToken ct)
    {
        while (true)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            }
            catch (SocketException)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunCtlAsync(
        string[] args, CancellationToken ct) =>
        RunAsync(
            "runuser",
            [
                "-u", "rabbitmq", "--", "env", $"HOME={_home}",
                Path.Combine(BinDir, "rabbitmqctl"), "-n", NodeName, .. args,
            ],
            ct);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string fileName, IEnumerable<string> args, CancellationToken ct)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)
            ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
            return (process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}
