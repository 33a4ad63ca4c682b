using System.Collections.Concurrent;
using MailMesh.Delivery.Events;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// A MassTransit bus of the test's own on the test broker, with one receive endpoint on a queue
/// of its own, that keeps every event of the subscribed types it is sent.
/// </summary>
internal sealed class EventListener : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IBusControl _bus;
    private readonly ConcurrentQueue<object> _received;

    private EventListener(ServiceProvider services, IBusControl bus, ConcurrentQueue<object> received)
    {
        _services = services;
        _bus = bus;
        _received = received;
    }

    public static async Task<EventListener> StartAsync(Uri broker, params Type[] eventTypes)
    {
        var received = new ConcurrentQueue<object>();
        var queue = "test-events-" + Guid.NewGuid().ToString("N")[..12];
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(received);
        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            foreach (var type in eventTypes)
            {
                bus.AddConsumer(typeof(Keeper<>).MakeGenericType(type));
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                var address = BrokerAddress.From(broker);
                rabbit.Host(address.Host, address.Port, address.VirtualHost, host =>
                {
                    host.Username(address.User);
                    host.Password(address.Password);
                });
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.AutoDelete = true;
                    endpoint.Durable = false;
                    endpoint.ConfigureConsumers(context);
                });
            });
        });

        var provider = services.BuildServiceProvider();
        var control = provider.GetRequiredService<IBusControl>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await control.StartAsync(timeout.Token);
        return new EventListener(provider, control, received);
    }

    /// <summary>Waits for an event of type <typeparamref name="T"/> that matches.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var found = _received.OfType<T>().FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"No matching {typeof(T).Name}; received:\n"
                    + string.Join('\n', _received));
            }

            await Task.Delay(50);
        }
    }

    public IReadOnlyList<object> Received => [.. _received];

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _bus.StopAsync(timeout.Token);
        await _services.DisposeAsync();
    }

    private sealed class Keeper<T>(ConcurrentQueue<object> received) : IConsumer<T>
        where T : class
    {
        public Task Consume(ConsumeContext<T> context)
        {
            received.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
