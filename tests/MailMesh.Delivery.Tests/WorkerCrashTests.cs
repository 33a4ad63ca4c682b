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

    [Fact]
    public async Task TwoWorkerProcesses_ShareTheSpool_EachMessageDeliveredOnce()
    {
        const int count = 8;
        // Each reply to the final dot takes a second, so a worker with a prefetch of one leaves
        // the rest of the spool to the other.
        await using var sink = await SmtpSink.StartAsync("-w", "1");
        await using var flow = await MailFlow.StartAsync(startDelivery: false);
        var sent = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var message = TestMessages.Plain("alice@example.org", "bob@example.net", "shared " + i);
            sent.Add(MessageId(message));
            await RawSmtp.SendAsync(flow.SmtpPort, "alice@example.org", ["bob@example.net"], message);
        }

        var settings = new Dictionary<string, string>
        {
            ["MailMesh:Routes:example.net"] = $"smtp://127.0.0.1:{sink.Port}",
            ["MailMesh:Delivery:Prefetch"] = "1",
        };
        await using var first = DeliveryProcess.Start(flow, settings);
        await using var second = DeliveryProcess.Start(flow, settings);

        static int Delivered(DeliveryProcess worker) =>
            worker.Output.Split('\n').Count(line => line.Contains("delivered to <bob@example.net>",
                StringComparison.Ordinal));
        await WaitUntilAsync(() => Delivered(first) + Delivered(second) >= count,
            () => first.Output + "\n" + second.Output, "The workers did not deliver every message");

        Assert.True(Delivered(first) > 0, "the first worker delivered nothing:\n" + first.Output);
        Assert.True(Delivered(second) > 0, "the second worker delivered nothing:\n" + second.Output);
        var arrived = await sink.WaitForMessagesAsync(count, Wait);
        Assert.Equal(sent.Order(), arrived.Select(dump => MessageId(dump.Message)).Order());
        await using var queues = flow.Queues();
        Assert.Equal(0u, await queues.WaitForCountAsync(queues.Spool, 0, Wait));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> diagnostics,
        string what = "The worker never had its messages in flight")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait)
            {
                throw new TimeoutException(what + ":\n" + diagnostics());
            }

            await Task.Delay(50);
        }
    }

    private static string MessageId(byte[] message) =>
        MessageIdHeader().Match(Encoding.Latin1.GetString(message)).Groups[1].Value;

    [GeneratedRegex(@"^Message-ID: (<[^>]+>)", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex MessageIdHeader();
}
