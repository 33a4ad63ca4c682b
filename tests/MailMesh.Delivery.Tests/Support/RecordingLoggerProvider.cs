using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>Keeps every log line of a host, so a test can read the outcome an operator would see.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(EventId Id, string Text)> _lines = new();

    public IReadOnlyList<(EventId Id, string Text)> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Recorder(_lines);

    /// <summary>Waits until a line with the event id contains every fragment.</summary>
    public async Task<string> WaitForAsync(int eventId, TimeSpan timeout, params string[] fragments)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var line = _lines.FirstOrDefault(line => line.Id.Id == eventId
                && fragments.All(fragment => line.Text.Contains(fragment, StringComparison.Ordinal)));
            if (line.Text is not null)
            {
                return line.Text;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"No log line {eventId} with {string.Join(", ", fragments)}; saw:\n"
                    + string.Join('\n', _lines.Select(l => $"{l.Id.Id} {l.Text}")));
            }

            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
    }

    private sealed class Recorder(ConcurrentQueue<(EventId, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((eventId, formatter(state, exception)));
    }
}
