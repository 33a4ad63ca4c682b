using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// The built delivery worker (MailMesh.Delivery.dll) as an operating system process of its own,
/// configured through environment variables as an operator would, so a test can kill it with
/// SIGKILL. A watchdog shell kills it as well should the test process die first.
/// </summary>
internal sealed class DeliveryProcess : IAsyncDisposable
{
    // Kills the worker (the second argument) once the test process (the first) is gone, and
    // ends by itself once the worker is.
    private const string Watchdog = """
        while [ -d "/proc/$1" ]; do
            [ -d "/proc/$2" ] || exit 0
            sleep 1
        done
        kill -KILL "$2"
        """;

    private readonly Process _worker;
    private readonly Process _watchdog;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _output = new();

    private DeliveryProcess(Process worker, Process watchdog, string directory)
    {
        _worker = worker;
        _watchdog = watchdog;
        _directory = directory;
    }

    /// <summary>What the worker wrote to its console so far.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Starts a worker on <paramref name="flow"/>'s broker and queues with its default settings
    /// and <paramref name="settings"/> (configuration keys such as <c>MailMesh:Routes:example.net</c>).
    /// </summary>
    public static DeliveryProcess Start(MailFlow flow, Dictionary<string, string> settings)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "MailMesh.Delivery.dll");
        var directory = Directory.CreateTempSubdirectory("mailmesh-worker-").FullName;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add(assembly);

        foreach (var name in start.Environment.Keys.Where(name =>
            name.StartsWith("OTEL_", StringComparison.Ordinal)
            || name.StartsWith("MailMesh__", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("MAILMESH_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        var environment = new Dictionary<string, string>
        {
            ["MailMesh:Hostname"] = MailFlow.Hostname,
            ["MailMesh:RabbitMq:Uri"] = flow.Broker.ToString(),
            ["MailMesh:RabbitMq:ReconnectDelay"] = "00:00:00.200",
            ["MailMesh:Spool:QueuePrefix"] = flow.QueuePrefix,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:MailMesh"] = "Information",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("the worker did not start");
        // Its output is redirected (and never written): an inherited stdout of the test host
        // held open would keep the test runner waiting.
        var watchdog = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-c", Watchdog, "sh",
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            process.Id.ToString(CultureInfo.InvariantCulture) })
        {
            watchdog.ArgumentList.Add(argument);
        }

        var worker = new DeliveryProcess(process, Process.Start(watchdog)!, directory);
        process.OutputDataReceived += (_, line) => worker.Record(line.Data);
        process.ErrorDataReceived += (_, line) => worker.Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Kills the worker with SIGKILL, as a crash would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        // On Unix, Process.Kill sends SIGKILL: no shutdown code of the worker runs.
        _worker.Kill();
        await _worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { _worker, _watchdog })
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet"
                ? path
                : "dotnet";
}
