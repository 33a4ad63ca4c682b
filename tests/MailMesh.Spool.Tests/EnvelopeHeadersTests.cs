using MailMesh.Spool;
using MailMesh.Testing;
using RabbitMQ.Client;

namespace MailMesh.Spool.Tests;

public class EnvelopeHeadersTests
{
    private static readonly SpoolEnvelope Sample = new(
        "01M8YQ857TE5GSXS",
        "sender@client.test",
        [
            new SpoolRecipient("a@example.test"),
            new SpoolRecipient("\"odd one\"@example.test", "SUCCESS,FAILURE", "rfc822;Odd@example.test"),
            new SpoolRecipient("jörg@exämple.test", "NEVER"),
        ],
        DateTimeOffset.FromUnixTimeMilliseconds(1_796_000_000_123),
        Attempt: 3,
        "::1",
        "client.test",
        "8BITMIME",
        Part: 2,
        Parts: 5,
        SmtpUtf8: true,
        EnvelopeId: "QQ314159",
        Return: "HDRS",
        DelayNotified: true);

    [Fact]
    public void Read_WithoutOptionalFields_GivesDefaults()
    {
        var plain = Sample with
        {
            SmtpUtf8 = false, EnvelopeId = null, Return = null, DelayNotified = false, Recipients = [new("a@b.test")],
        };
        var headers = EnvelopeHeaders.Write(plain);
        Assert.DoesNotContain(EnvelopeHeaders.DelayNotified, headers.Keys);
        var read = EnvelopeHeaders.Read(headers);
        Assert.False(read.DelayNotified);
        Assert.False(read.SmtpUtf8);
        Assert.Null(read.EnvelopeId);
        Assert.Null(read.Return);
        Assert.Equal(plain.Recipients, read.Recipients);
    }

    [Fact]
    public void Read_WhatWriteWrote_GivesSameEnvelope()
    {
        var read = EnvelopeHeaders.Read(EnvelopeHeaders.Write(Sample));
        Assert.Equal(Sample with { Recipients = [] }, read with { Recipients = [] });
        Assert.Equal(Sample.Recipients, read.Recipients);
    }

    [Fact]
    public async Task Read_AfterTripThroughBroker_GivesSameEnvelope()
    {
        var factory = new ConnectionFactory { Uri = await TestBroker.SharedUriAsync() };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        var properties = new BasicProperties { Headers = EnvelopeHeaders.Write(Sample) };
        await channel.BasicPublishAsync("", queue, mandatory: false, properties, "x"u8.ToArray());

        BasicGetResult? result = null;
        for (var i = 0; i < 100 && result is null; i++)
        {
            result = await channel.BasicGetAsync(queue, autoAck: true);
            await Task.Delay(result is null ? 20 : 0);
        }

        var read = EnvelopeHeaders.Read(result!.BasicProperties.Headers);
        Assert.Equal(Sample.QueueId, read.QueueId);
        Assert.Equal(Sample.ReversePath, read.ReversePath);
        Assert.Equal(Sample.Recipients, read.Recipients);
        Assert.Equal(Sample.ArrivedAt, read.ArrivedAt);
        Assert.Equal(Sample with { Recipients = [] }, read with { Recipients = [] });
    }

    [Fact]
    public void Read_FutureSchema_IsRefused()
    {
        var headers = EnvelopeHeaders.Write(Sample);
        headers[EnvelopeHeaders.Schema] = EnvelopeHeaders.SchemaVersion + 1;
        var error = Assert.Throws<FormatException>(() => EnvelopeHeaders.Read(headers));
        Assert.Contains("schema", error.Message);
    }

    [Theory]
    [InlineData(EnvelopeHeaders.QueueId)]
    [InlineData(EnvelopeHeaders.Recipients)]
    [InlineData(EnvelopeHeaders.Schema)]
    public void Read_MissingHeader_IsRefused(string name)
    {
        var headers = EnvelopeHeaders.Write(Sample);
        headers.Remove(name);
        Assert.Throws<FormatException>(() => EnvelopeHeaders.Read(headers));
    }
}
