using System.Net.Sockets;
using MailKit.Net.Smtp;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Timeout;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// Connection attempts to each SMTP server, through a Polly pipeline of its own: a timeout on
/// the connect, inside a circuit breaker that, once a server has failed to connect
/// <see cref="DeliveryOptions.CircuitBreakerFailures"/> times in a row within the sampling time,
/// skips it for <see cref="DeliveryOptions.CircuitBreakerDuration"/>. A dead host then costs
/// each message nothing instead of a connect timeout, and the next MX host is tried at once.
/// </summary>
internal sealed class DestinationBreakers(DeliveryOptions options, TimeProvider time)
{
    // Limitation: one small pipeline is kept per server ever tried, for the life of the worker;
    // a worker that reaches very many distinct servers holds as many.
    private readonly ResiliencePipelineRegistry<string> _pipelines = new();

    /// <summary>
    /// Runs <paramref name="connect"/> for <paramref name="endpoint"/> under its breaker. Throws
    /// <see cref="BrokenCircuitException"/> without trying while the breaker is open, and
    /// <see cref="TimeoutRejectedException"/> when the connect took longer than allowed.
    /// </summary>
    public ValueTask ConnectAsync(
        SmtpEndpoint endpoint,
        Func<CancellationToken, ValueTask> connect,
        CancellationToken cancellationToken) =>
        _pipelines.GetOrAddPipeline(endpoint.Key, Build).ExecuteAsync(connect, cancellationToken);

    /// <summary>Whether an exception says the server could not be reached, as opposed to refused.</summary>
    public static bool IsConnectionFailure(Exception e) =>
        e is SocketException or IOException or TimeoutRejectedException or TimeoutException
            or SmtpProtocolException;

    private void Build(ResiliencePipelineBuilder builder)
    {
        builder.TimeProvider = time;
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 1.0,
            MinimumThroughput = options.CircuitBreakerFailures,
            SamplingDuration = options.CircuitBreakerDuration,
            BreakDuration = options.CircuitBreakerDuration,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsConnectionFailure),
        });
        builder.AddTimeout(options.ConnectTimeout);
    }
}
