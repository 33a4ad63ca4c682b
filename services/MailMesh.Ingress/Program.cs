using MailMesh.Hosting;
using MailMesh.Ingress;

var builder = Host.CreateApplicationBuilder(args);
builder.AddMailMeshDefaults("mailmesh-ingress");
builder.Services.AddMailMeshIngress(builder.Configuration);
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(45));
await builder.Build().RunAsync();
