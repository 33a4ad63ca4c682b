using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MailMesh.Bench;

/// <summary>
/// Measures what the spool's broker can confirm on its own, without MailMesh in the way: the
/// ceiling that the ingress's accept rate is judged against.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: MailMesh.Bench broker --uri amqp://user:pass@host:port/ [options]

          --publishers N[,N...]  concurrent publishers, each run in turn (default 20,50)
          --seconds S            how long each run publishes (default 10)
          --size BYTES           message body size (default 4096)

        Each publisher has its own channel with publisher confirms and publishes persistent
        messages to a fresh quorum queue, one at a time, awaiting every confirm: the way the
        ingress spools one SMTP transaction. One line per run, key=value, rate in confirmed
        publishes per second. The queue is deleted afterwards.
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is not "broker")
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        CeilingOptions options;
        try
        {
            options = CeilingOptions.Parse(args.AsSpan(1));
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // Let the run stop and still delete its queue.
            e.Cancel = true;
            interrupted.Cancel();
        };

        var failed = false;
        foreach (var publishers in options.Publishers)
        {
            var result = await BrokerCeiling.RunAsync(options, publishers, interrupted.Token);
            Console.WriteLine(result.Format());
            failed |= result.Nacked > 0 || result.QueueDepth != result.Confirmed;
            if (interrupted.IsCancellationRequested)
            {
                return 130;
            }
        }

        return failed ? 1 : 0;
    }
}

internal sealed record CeilingOptions(Uri Uri, IReadOnlyList<int> Publishers, TimeSpan Duration, int Size)
{
    public static CeilingOptions Parse(ReadOnlySpan<string> args)
    {
        Uri? uri = null;
        IReadOnlyList<int> publishers = [20, 50];
        var seconds = 10.0;
        var size = 4096;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            var value = args[++i];
            switch (name)
            {
                case "--uri":
                    uri = Uri.TryCreate(value, UriKind.Absolute, out var parsed) && parsed.Scheme is "amqp"
                        ? parsed
                        : throw new ArgumentException($"--uri: not an amqp:// URI: {value}");
                    break;
                case "--publishers":
                    publishers = [.. value.Split(',').Select(p => Positive(name, p))];
                    break;
                case "--seconds":
                    seconds = double.TryParse(
                            value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
                        ? s
                        : throw new ArgumentException($"--seconds: not a positive number: {value}");
                    break;
                case "--size":
                    size = Positive(name, value);
                    break;
                default:
                    throw new ArgumentException($"unknown option {name}");
            }
        }

        return new CeilingOptions(
            uri ?? throw new ArgumentException("--uri is required"),
            publishers,
            TimeSpan.FromSeconds(seconds),
            size);
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name}: not a positive integer: {value}");
}

internal sealed record CeilingResult(
    int Publishers,
    TimeSpan Elapsed,
    long Confirmed,
    long Nacked,
    long QueueDepth,
    double P50Milliseconds,
    double P99Milliseconds)
{
    public double Rate => Confirmed / Elapsed.TotalSeconds;

    public string Format() => string.Create(
        CultureInfo.InvariantCulture,
        $"broker publishers={Publishers} seconds={Elapsed.TotalSeconds:0.00} confirmed={Confirmed} " +
        $"nacked={Nacked} queue_depth={QueueDepth} rate={Rate:0.0} " +
        $"confirm_p50_ms={P50Milliseconds:0.00} confirm_p99_ms={P99Milliseconds:0.00}");
}

internal static class BrokerCeiling
{
    public static async Task<CeilingResult> RunAsync(
        CeilingOptions options,
        int publishers,
        CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = options.Uri,
            ClientProvidedName = "mailmesh-bench",
            // A broken connection is a failed measurement, not something to ride out.
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
        };

        // One connection shared by every publisher, as the ingress shares one: a ceiling
        // measured over many connections would not be one the ingress could reach.
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        var queue = "mailmesh-bench." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await DeclareAsync(connection, queue, cancellationToken);
        try
        {
            return await MeasureAsync(connection, queue, options, publishers, cancellationToken);
        }
        finally
        {
            // Deleted even after an interrupt: a quorum queue left behind keeps its disk.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
            await channel.QueueDeleteAsync(queue, cancellationToken: timeout.Token);
        }
    }

    private static async Task DeclareAsync(IConnection connection, string queue, CancellationToken ct)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.QueueDeclareAsync(
            queue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" },
            cancellationToken: ct);
    }

    private static async Task<CeilingResult> MeasureAsync(
        IConnection connection,
        string queue,
        CeilingOptions options,
        int publishers,
        CancellationToken cancellationToken)
    {
        var body = RandomNumberGenerator.GetBytes(options.Size);
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "message/rfc822",
        };

        // Every channel is open before the clock starts, so opening them is not measured.
        var channels = new IChannel[publishers];
        for (var i = 0; i < publishers; i++)
        {
            channels[i] = await connection.CreateChannelAsync(
                new CreateChannelOptions(
                    publisherConfirmationsEnabled: true,
                    publisherConfirmationTrackingEnabled: true),
                cancellationToken);
        }

        try
        {
            var clock = Stopwatch.StartNew();
            var loops = channels.Select(channel => Task.Run(
                () => PublishUntilAsync(
                    channel, queue, properties, body, clock, options.Duration, cancellationToken),
                cancellationToken));
            var outcomes = await Task.WhenAll(loops);
            // Publishes still in flight at the deadline are waited for and counted, so the
            // elapsed time is taken only once every publisher has stopped.
            var elapsed = clock.Elapsed;

            var confirmed = outcomes.Sum(o => o.Confirmed);
            var latencies = outcomes.SelectMany(o => o.Latencies).Order().ToArray();
            return new CeilingResult(
                publishers,
                elapsed,
                confirmed,
                outcomes.Sum(o => o.Nacked),
                await QueueDepthAsync(connection, queue, confirmed, cancellationToken),
                Percentile(latencies, 0.50),
                Percentile(latencies, 0.99));
        }
        finally
        {
            foreach (var channel in channels)
            {
                await channel.DisposeAsync();
            }
        }
    }

    private static async Task<PublisherOutcome> PublishUntilAsync(
        IChannel channel,
        string queue,
        BasicProperties properties,
        ReadOnlyMemory<byte> body,
        Stopwatch clock,
        TimeSpan duration,
        CancellationToken cancellationToken)
    {
        var outcome = new PublisherOutcome();
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                // With confirmation tracking this returns only when the broker has confirmed.
                await channel.BasicPublishAsync(
                    exchange: "",
                    routingKey: queue,
                    mandatory: true,
                    basicProperties: properties,
                    body: body,
                    cancellationToken: cancellationToken);
                outcome.Confirmed++;
                outcome.Latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (PublishException)
            {
                // A nack or a return: the broker did not take the message; counted, not retried.
                outcome.Nacked++;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        return outcome;
    }

    /// <summary>
    /// Messages in the queue, waited for until it holds every confirmed one or a few seconds
    /// pass: a confirm means the message is stored, which this checks.
    /// </summary>
    private static async Task<long> QueueDepthAsync(
        IConnection connection,
        string queue,
        long expected,
        CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var ok = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            if (ok.MessageCount >= expected || waited.Elapsed > TimeSpan.FromSeconds(5))
            {
                return ok.MessageCount;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, fraction * sorted.Length)];

    private sealed class PublisherOutcome
    {
        public long Confirmed { get; set; }

        public long Nacked { get; set; }

        public List<double> Latencies { get; } = [];
    }
}
