using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailMesh.Hosting;

public static class ReadinessCheck
{
    /// <summary>
    /// Adds a check to <c>/health/ready</c>: <paramref name="problem"/> looks at a service of type
    /// <typeparamref name="T"/> and says what is wrong, or null when all is well.
    /// </summary>
    public static IServiceCollection AddReadinessCheck<T>(
        this IServiceCollection services,
        string name,
        Func<T, string?> problem)
        where T : notnull =>
        services.AddReadinessCheck<T>(name, (service, _) => Task.FromResult(problem(service)));

    /// <inheritdoc cref="AddReadinessCheck{T}(IServiceCollection, string, Func{T, string?})"/>
    public static IServiceCollection AddReadinessCheck<T>(
        this IServiceCollection services,
        string name,
        Func<T, CancellationToken, Task<string?>> problem)
        where T : notnull
    {
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            name,
            provider => new DelegateCheck(cancellationToken =>
                problem(provider.GetRequiredService<T>(), cancellationToken)),
            failureStatus: HealthStatus.Unhealthy,
            tags: [HttpEndpoints.ReadyTag]));
        return services;
    }

    private sealed class DelegateCheck(Func<CancellationToken, Task<string?>> problem) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context,
            CancellationToken cancellationToken = default) =>
            await problem(cancellationToken).ConfigureAwait(false) is { } text
                ? new HealthCheckResult(context.Registration.FailureStatus, text)
                : HealthCheckResult.Healthy();
    }
}
