using MailMesh.Hosting;
using MailMesh.Ingress.Policy;
using MailMesh.Ingress.Spooling;
using MailMesh.Spool;
using Microsoft.Extensions.Options;

namespace MailMesh.Ingress;

public static class IngressServiceCollectionExtensions
{
    /// <summary>Registers the SMTP ingress: options, relay policy, spool writer and listener.</summary>
    public static IServiceCollection AddMailMeshIngress(
        this IServiceCollection services,
        IConfiguration configuration)
    {
        services.AddMailMeshSpool();
        // The ingress connects when a message comes; a readiness probe is a reason to try, or a
        // broker back from an outage would stay unused by a balancer waiting for readiness.
        services.AddReadinessCheck<SpoolPublisher>("broker", async (publisher, cancellationToken) =>
            publisher.IsReady || (await publisher.TryConnectAsync(cancellationToken).ConfigureAwait(false)
                && publisher.IsReady)
                ? null
                : "not connected to the broker, or the broker is blocked");
        services.AddOptions<IngressOptions>().BindConfiguration(IngressOptions.SectionName)
            .PostConfigure(options =>
                ApplyListDefaults(options, configuration.GetSection(IngressOptions.SectionName)))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngressOptions>, IngressOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<IngressOptions>>().Value;
            return new RelayPolicy(options.TrustedNetworks!, options.AcceptedDomains!);
        });
        services.AddSingleton<IMessageSpool, BrokerSpool>();
        services.AddSingleton<SmtpServer>();
        services.AddHostedService(sp => sp.GetRequiredService<SmtpServer>());
        return services;
    }

    /// <summary>
    /// A list left unset takes its default; one set to an empty value
    /// (<c>MailMesh__Ingress__TrustedNetworks=</c>) is empty; one with entries is exactly those.
    /// </summary>
    private static void ApplyListDefaults(IngressOptions options, IConfigurationSection section)
    {
        options.TrustedNetworks = ReadList(section.GetSection(nameof(IngressOptions.TrustedNetworks)),
            RelayPolicy.DefaultTrustedNetworks);
        options.AcceptedDomains = ReadList(section.GetSection(nameof(IngressOptions.AcceptedDomains)),
            RelayPolicy.DefaultAcceptedDomains);
    }

    private static List<string> ReadList(IConfigurationSection section, string[] defaults)
    {
        var children = section.GetChildren().Select(child => child.Value).OfType<string>()
            .Where(value => value.Length > 0).ToList();
        if (children.Count > 0)
        {
            return children;
        }

        return section.Value is null ? [.. defaults] : [];
    }
}
