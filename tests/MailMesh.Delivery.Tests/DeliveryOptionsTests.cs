using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery.Tests;

public sealed class DeliveryOptionsTests
{
    [Fact]
    public void RetrySchedule_NotConfigured_IsFiveMinutesDoublingToFourHours()
    {
        var options = Bind([]);

        Assert.Equal(
            [5, 10, 20, 40, 80, 160, 240],
            options.RetrySchedule.Select(wait => (int)wait.TotalMinutes));
        Assert.Equal(TimeSpan.FromDays(5), options.MaxQueueLifetime);
        Assert.Equal(TimeSpan.FromMinutes(20), options.AttemptTimeout);
    }

    [Fact]
    public void ConnectionSettings_NotConfigured_AsPostfixButAFewSecondsOfIdleTime()
    {
        var options = Bind([]);

        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectionIdleTimeout);
        Assert.Equal(100, options.ConnectionReuseLimit);
        Assert.Equal(20, options.MaxConnectionsPerDestination);
        Assert.Equal(100, options.MaxConnections);
    }

    [Fact]
    public void RetrySchedule_Configured_ReplacesTheDefaultAndItsLastEntryRepeats()
    {
        var options = Bind(new()
        {
            ["MailMesh:Delivery:RetrySchedule:0"] = "00:00:30",
            ["MailMesh:Delivery:RetrySchedule:1"] = "00:02:00",
        });

        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)], options.RetrySchedule);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RetryDelayAfter(1));
        Assert.Equal(TimeSpan.FromMinutes(2), options.RetryDelayAfter(2));
        Assert.Equal(TimeSpan.FromMinutes(2), options.RetryDelayAfter(9));
    }

    [Theory]
    [InlineData("RetrySchedule:1", "00:00:00.500", "MailMesh:Delivery:RetrySchedule:1 is 00:00:00.5000000")]
    [InlineData("RetrySchedule:1", "31.00:00:00", "from 1 second to 30 days")]
    [InlineData("RetrySchedule:20", "00:05:00", "has 21 entries; at most 20")]
    [InlineData("AttemptTimeout", "00:40:00", "AttemptTimeout")]
    [InlineData("MaxQueueLifetime", "-00:00:01", "MaxQueueLifetime")]
    [InlineData("ConnectionIdleTimeout", "00:06:00", "ConnectionIdleTimeout")]
    [InlineData("ConnectionReuseLimit", "0", "ConnectionReuseLimit")]
    [InlineData("MaxConnectionsPerDestination", "0", "MaxConnectionsPerDestination")]
    [InlineData("MaxConnections", "0", "MaxConnections")]
    public void InvalidSetting_StopsTheWorkerNamingTheSetting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { ["MailMesh:Delivery:RetrySchedule:0"] = "00:01:00" };
        if (key == "RetrySchedule:20")
        {
            for (var i = 1; i < 20; i++)
            {
                settings["MailMesh:Delivery:RetrySchedule:" + i] = "00:01:00";
            }
        }

        settings["MailMesh:Delivery:" + key] = value;

        var error = Assert.Throws<OptionsValidationException>(() => Bind(settings));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static DeliveryOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddMailMeshDelivery();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<DeliveryOptions>>().Value;
    }
}
