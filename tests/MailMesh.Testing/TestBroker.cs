namespace MailMesh.Testing;

/// <summary>
/// The broker shared by all tests of one test process. test.sh starts a node and passes it in
/// through MAILMESH_TEST_AMQP_URI; a plain `dotnet test` gets a private node started on first use.
/// Tests must therefore use their own queue and exchange names and never assume an empty broker.
/// </summary>
public static class TestBroker
{
    public const string UriVariable = "MAILMESH_TEST_AMQP_URI";

    // Started at most once; a failed start is remembered so every later test fails fast with the
    // same message instead of waiting for its own startup timeout.
    private static readonly Lazy<Task<RabbitNode>> SharedNode =
        new(StartSharedNodeAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static async Task<Uri> SharedUriAsync()
    {
        var configured = Environment.GetEnvironmentVariable(UriVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new Uri(configured);
        }

        var node = await SharedNode.Value;
        return node.AmqpUri;
    }

    private static async Task<RabbitNode> StartSharedNodeAsync()
    {
        var node = await RabbitNode.StartAsync("shared");
        // A clean stop where the test runner gives the process time for it; where it does not,
        // the node's watchdog stops it and deletes its data once this process is gone.
        AppDomain.CurrentDomain.ProcessExit +=
            (_, _) => node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return node;
    }
}
