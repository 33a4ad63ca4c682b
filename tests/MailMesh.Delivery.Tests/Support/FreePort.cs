using System.Net;
using System.Net.Sockets;

namespace MailMesh.Delivery.Tests.Support;

internal static class FreePort
{
    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts connections on the port.</summary>
    public static Task WaitListeningAsync(int port, TimeSpan timeout) =>
        WaitListeningAsync("127.0.0.1", port, timeout);

    /// <summary>Waits until something accepts connections on the address and port.</summary>
    public static async Task WaitListeningAsync(string address, int port, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Parse(address), port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }
    }
}
