using MailMesh.Spool;
using Microsoft.Extensions.Time.Testing;

namespace MailMesh.Spool.Tests;

public class QueueIdGeneratorTests
{
    [Fact]
    public void Next_LaterTime_SortsAfter()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-03T19:00:00Z"));
        var generator = new QueueIdGenerator(time);
        var ids = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            ids.Add(generator.Next());
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.All(ids, id => Assert.Matches("^[0-9A-HJKMNP-TV-Z]{16}$", id));
    }

    [Fact]
    public void Next_SameMillisecond_IsUnique()
    {
        var generator = new QueueIdGenerator(new FakeTimeProvider(DateTimeOffset.Parse("2026-12-03T19:00:00Z")));
        var ids = Enumerable.Range(0, 10_000).Select(_ => generator.Next()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
