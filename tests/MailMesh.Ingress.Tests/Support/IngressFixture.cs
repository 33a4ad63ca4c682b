namespace MailMesh.Ingress.Tests.Support;

/// <summary>One ingress with default settings, shared by the tests of a class.</summary>
public sealed class IngressFixture : IAsyncLifetime
{
    private IngressServer? _server;

    internal IngressServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await IngressServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
