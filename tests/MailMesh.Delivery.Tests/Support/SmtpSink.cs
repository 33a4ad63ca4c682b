using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// Postfix's smtp-sink on a loopback port, dumping each message it accepts to a file of its own.
/// Options such as <c>-f RCPT</c> (refuse recipients with 5xx) or <c>-8</c> (no 8BITMIME) pass
/// through.
/// </summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private const string Program = "/usr/sbin/smtp-sink";
    private Process _process;

    private SmtpSink(Process process, string address, int port, string directory)
    {
        _process = process;
        Address = address;
        Port = port;
        Directory = directory;
    }

    public string Address { get; }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>Dumps written so far, complete or not: smtp-sink writes one as the data arrives.</summary>
    public int DumpCount => System.IO.Directory.GetFiles(Directory).Length;

    public static Task<SmtpSink> StartAsync(params string[] options) =>
        StartOnAsync("127.0.0.1", FreePort.Next(), options);

    /// <summary>
    /// smtp-sink on <paramref name="address"/>, such as a fake MX host on 127.0.0.12, and
    /// <paramref name="port"/>.
    /// </summary>
    public static async Task<SmtpSink> StartOnAsync(string address, int port, params string[] options)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException("smtp-sink is not installed (apt-get install postfix)");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("mailmesh-sink-").FullName;
        // smtp-sink writes its dumps as the unprivileged user it switches to.
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0x1FF);
        }
        var sink = new SmtpSink(Launch(address, port, directory, options), address, port, directory);
        await FreePort.WaitListeningAsync(address, port, TimeSpan.FromSeconds(10));
        return sink;
    }

    /// <summary>
    /// Stops this smtp-sink and starts it again on the same port and dump directory with other
    /// <paramref name="options"/>: the same destination, now answering differently.
    /// </summary>
    public async Task RestartAsync(params string[] options)
    {
        await StopAsync();
        _process = Launch(Address, Port, Directory, options);
        await FreePort.WaitListeningAsync(Address, Port, TimeSpan.FromSeconds(10));
    }

    private static Process Launch(string address, int port, string directory, string[] options)
    {
        var start = new ProcessStartInfo(Program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        if (Environment.IsPrivilegedProcess)
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("nobody");
        }

        start.ArgumentList.Add("-d");
        start.ArgumentList.Add(Path.Combine(directory, "%M."));
        start.ArgumentList.Add(address + ":" + port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("100");
        return Process.Start(start) ?? throw new InvalidOperationException("smtp-sink did not start");
    }

    private async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The dumps of the messages taken so far, waiting until there are <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<SinkDump>> WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var files = System.IO.Directory.GetFiles(Directory);
            if (files.Length >= count || clock.Elapsed > timeout)
            {
                // A dump is complete once smtp-sink has answered the final dot; a short wait lets
                // it close the file.
                await Task.Delay(200);
                return [.. files.Select(file => SinkDump.Parse(File.ReadAllBytes(file)))];
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>
/// One smtp-sink dump: its X-Mail-Args and X-Rcpt-Args records, and the message as received,
/// which smtp-sink stores with LF line ends and the dot-stuffing removed.
/// </summary>
internal sealed record SinkDump(string MailArgs, IReadOnlyList<string> RcptArgs, byte[] Message)
{
    public static SinkDump Parse(byte[] dump)
    {
        var mailArgs = "";
        var rcptArgs = new List<string>();
        var position = 0;
        while (true)
        {
            var end = Array.IndexOf(dump, (byte)'\n', position);
            var line = Encoding.Latin1.GetString(dump, position, end - position);
            position = end + 1;
            if (line.StartsWith("X-Mail-Args: ", StringComparison.Ordinal))
            {
                mailArgs = line["X-Mail-Args: ".Length..];
            }
            else if (line.StartsWith("X-Rcpt-Args: ", StringComparison.Ordinal))
            {
                rcptArgs.Add(line["X-Rcpt-Args: ".Length..]);
            }
            else if (line.StartsWith("Received: ", StringComparison.Ordinal))
            {
                // smtp-sink's own Received: header has three lines; the message follows.
                for (var i = 0; i < 2; i++)
                {
                    position = Array.IndexOf(dump, (byte)'\n', position) + 1;
                }

                break;
            }
        }

        // The dump ends with an empty line of smtp-sink's own.
        return new SinkDump(mailArgs, rcptArgs, dump[position..^1]);
    }

    /// <summary>The spooled bytes as smtp-sink stores them: CRLF becomes LF.</summary>
    public static byte[] AsStored(byte[] message) =>
        Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal));
}
