using MailMesh.Hosting;
using MailMesh.Ingress;
using MailMesh.Ingress.Security;

if (args is ["hash-password", ..])
{
    // Reads the password from standard input, so it stays out of the shell's history.
    var password = Console.In.ReadLine();
    if (string.IsNullOrEmpty(password))
    {
        Console.Error.WriteLine("usage: echo PASSWORD | MailMesh.Ingress hash-password");
        return 2;
    }

    Console.WriteLine(PasswordHash.Create(password));
    return 0;
}

var builder = Host.CreateApplicationBuilder(args);
builder.AddMailMeshDefaults("mailmesh-ingress");
builder.Services.AddMailMeshIngress(builder.Configuration);
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(45));
await builder.Build().RunAsync();
return 0;
