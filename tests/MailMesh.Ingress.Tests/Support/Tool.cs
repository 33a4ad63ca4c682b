using System.Diagnostics;

namespace MailMesh.Ingress.Tests.Support;

/// <summary>Runs an installed command-line peer (swaks, smtp-source) and returns what it printed.</summary>
internal static class Tool
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string command, TimeSpan timeout,
        params string[] arguments)
    {
        var path = new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" }
            .Select(dir => Path.Combine(dir, command)).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                $"{command} is not installed; .ci/run installs it (apt-get install swaks postfix)");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {timeout}: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
