using MailMesh.Delivery;
using MailMesh.Hosting;
using MailMesh.Spool;
using Microsoft.Extensions.Options;

var builder = Host.CreateApplicationBuilder(args);
builder.AddMailMeshDefaults("mailmesh-delivery");
builder.Services.AddMailMeshDelivery(builder.Configuration);
builder.Services.AddReadinessCheck<SpoolConsumer>("broker", consumer => consumer.IsConsuming
    ? null
    : "not consuming the spool");
builder.Services.AddOptions<HostOptions>().Configure<IOptions<DeliveryOptions>>((host, delivery) =>
    // Room for the deliveries in flight to finish, and for returning the rest to the spool.
    host.ShutdownTimeout = delivery.Value.DrainTimeout + TimeSpan.FromSeconds(15));
await builder.Build().RunAsync();
