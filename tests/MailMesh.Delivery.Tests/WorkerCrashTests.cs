using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

public sealed partial class WorkerCrashTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WorkerKilledMidDelivery_EveryMessageStillArrives()
    {
        const int count = 10;
        const int prefetch = 4;
        // The slow destination takes each message and then holds back its reply to the final
        // dot: a worker killed then has sent everything and heard nothing.
        await using var slow = await SmtpSink.StartAsync("-W", ".:300");
        await using var fast = await SmtpSink.StartAsync();
        await using var flow = await MailFlow.StartAsync(startDelivery: false);
        await using var queues = flow.Queues();
        var sent = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var message = TestMessages.Plain("alice@example.org", "bob@example.net", "crash " + i);
            sent.Add(MessageId(message));
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"], message);
        }

        Assert.Equal((uint)count, await queues.WaitForCountAsync(queues.Spool, count, Wait));

        await using (var doomed = DeliveryProcess.Start(flow, new()
        {
            ["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{slow.Port}",
            ["MailMesh:Delivery:Prefetch"] = prefetch.ToString(CultureInfo.InvariantCulture),
        }))
        {
            await WaitUntilAsync(() => slow.DumpCount >= prefetch, () => doomed.Output);
            Assert.Equal((uint)(count - prefetch), await queues.CountAsync(queues.Spool));
            await doomed.KillAsync();
        }

        // The broker takes back what the dead worker held: the whole spool is ready again.
        Assert.Equal((uint)count, await queues.WaitForCountAsync(queues.Spool, count, Wait));
        await using var survivor = DeliveryProcess.Start(flow, new()
        {
            ["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{fast.Port}",
        });

        var arrived = await fast.WaitForMessagesAsync(count, Wait);
        Assert.True(arrived.Count >= count, $"{arrived.Count} of {count} arrived:\n{survivor.Output}");
        Assert.Equal(sent.Order(), arrived.Select(dump => MessageId(dump.Message)).Distinct().Order());
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
        Assert.Equal(0u, await queues.CountWaitingAsync());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> diagnostics)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait)
            {
                throw new TimeoutException("The worker never had its messages in flight:\n" + diagnostics());
            }

            await Task.Delay(50);
        }
    }

    private static string MessageId(byte[] message) =>
        MessageIdHeader().Match(Encoding.Latin1.GetString(message)).Groups[1].Value;

    [GeneratedRegex(@"^Message-ID: (<[^>]+>)", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex MessageIdHeader();
}
