using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailMesh.Spool;

public static class SpoolConsumerServiceCollectionExtensions
{
    /// <summary>
    /// Registers the spool options, topology and consumer, without the ingress's publisher.
    /// <paramref name="waitDelays"/> gives the delays of the wait queues the consumer declares
    /// and defers into; without it, none.
    /// </summary>
    public static IServiceCollection AddMailMeshSpoolConsumer(
        this IServiceCollection services,
        Func<IServiceProvider, IEnumerable<TimeSpan>>? waitDelays = null)
    {
        services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SpoolOptions>().BindConfiguration(SpoolOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new SpoolTopology(
            sp.GetRequiredService<IOptions<SpoolOptions>>().Value,
            waitDelays?.Invoke(sp)));
        services.TryAddSingleton<SpoolConsumer>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
