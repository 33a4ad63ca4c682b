using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailMesh.Spool;

public static class SpoolServiceCollectionExtensions
{
    /// <summary>Registers the spool options, topology and publisher.</summary>
    public static IServiceCollection AddMailMeshSpool(this IServiceCollection services)
    {
        services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SpoolOptions>().BindConfiguration(SpoolOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new SpoolTopology(sp.GetRequiredService<IOptions<SpoolOptions>>().Value));
        services.AddSingleton(sp => new QueueIdGenerator(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SpoolPublisher>();
        services.AddHostedService<SpoolConnector>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
