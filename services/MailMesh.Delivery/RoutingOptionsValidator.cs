using MailMesh.Delivery.Routing;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

/// <summary>Stops the service at start when a route cannot be read, naming the setting.</summary>
internal sealed class RoutingOptionsValidator : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        var errors = new List<string>();
        foreach (var (domain, target) in options.Routes)
        {
            if (string.IsNullOrWhiteSpace(target))
            {
                continue;
            }

            if (domain.Trim('.').Length == 0)
            {
                errors.Add($"MailMesh:Routes:{domain} does not name a domain.");
            }

            Check($"MailMesh:Routes:{domain}", target, errors);
        }

        Check("MailMesh:DefaultRoute", options.DefaultRoute, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(string setting, string target, List<string> errors)
    {
        try
        {
            RouteParser.Parse(target, Environment.CurrentDirectory);
        }
        catch (FormatException e)
        {
            errors.Add($"{setting}: {e.Message}.");
        }
    }
}
