using System.Globalization;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

/// <summary>Stops the service at start when the retry schedule cannot work, naming the entry.</summary>
internal sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    /// <summary>
    /// Each entry is a wait queue of its own; a few is all a schedule needs (the default has 7).
    /// </summary>
    public const int MaxRetrySchedule = 20;

    private static readonly TimeSpan ShortestWait = TimeSpan.FromSeconds(1);

    // Inside RabbitMQ's largest message TTL (2^32 - 1 ms, about 49.7 days).
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
    {
        const string setting = "MailMesh:Delivery:RetrySchedule";
        var errors = new List<string>();
        if (options.RetrySchedule.Count == 0)
        {
            errors.Add($"{setting} is empty; give at least one wait, e.g. {setting}:0=00:05:00.");
        }
        else if (options.RetrySchedule.Count > MaxRetrySchedule)
        {
            errors.Add($"{setting} has {options.RetrySchedule.Count} entries; at most {MaxRetrySchedule} "
                + "are allowed (each is a wait queue; the last one repeats).");
        }

        for (var i = 0; i < options.RetrySchedule.Count; i++)
        {
            var wait = options.RetrySchedule[i];
            if (wait < ShortestWait || wait > LongestWait)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{setting}:{i} is {wait}; each wait must be from 1 second to 30 days."));
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
