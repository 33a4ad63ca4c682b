using Polly;
using Polly.Timeout;

namespace MailMesh.Delivery.Relay;

/// <summary>
/// The longest each stage of an SMTP session may take, after RFC 5321 4.5.3.2: the handshake
/// (greeting, EHLO, STARTTLS, AUTH) and the transaction (MAIL to the reply after the data), each
/// under a Polly timeout of its own, on top of <see cref="DeliveryOptions.SmtpTimeout"/> for every
/// single read or write. A server that trickles bytes to dodge the per-read timeout still ends
/// the stage on time; the recipients are deferred, or the next MX host is tried.
/// </summary>
internal sealed class StageTimeouts(DeliveryOptions options, TimeProvider time)
{
    private readonly ResiliencePipeline _handshake = Build(options.HandshakeTimeout, time);
    private readonly ResiliencePipeline _transaction = Build(options.TransactionTimeout, time);

    /// <summary>Runs the handshake; throws <see cref="TimeoutException"/> when it takes too long.</summary>
    public Task HandshakeAsync(Func<CancellationToken, Task> stage, CancellationToken cancellationToken) =>
        RunAsync(_handshake, "the greeting, EHLO, STARTTLS or AUTH", options.HandshakeTimeout, stage,
            cancellationToken);

    /// <summary>Runs one transaction; throws <see cref="TimeoutException"/> when it takes too long.</summary>
    public Task TransactionAsync(Func<CancellationToken, Task> stage, CancellationToken cancellationToken) =>
        RunAsync(_transaction, "the transaction", options.TransactionTimeout, stage, cancellationToken);

    private static async Task RunAsync(
        ResiliencePipeline pipeline,
        string what,
        TimeSpan limit,
        Func<CancellationToken, Task> stage,
        CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.ExecuteAsync(async token => await stage(token).ConfigureAwait(false), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e)
        {
            throw new TimeoutException($"{what} took longer than {limit.TotalSeconds:0.#} s", e);
        }
    }

    private static ResiliencePipeline Build(TimeSpan timeout, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        return builder.AddTimeout(timeout).Build();
    }
}
