using System.Net;
using MailMesh.Ingress.Policy;
using Microsoft.Extensions.Options;

namespace MailMesh.Ingress;

/// <summary>Checks what data annotations cannot: the listen address and every trusted network.</summary>
internal sealed class IngressOptionsValidator : IValidateOptions<IngressOptions>
{
    public ValidateOptionsResult Validate(string? name, IngressOptions options)
    {
        var errors = new List<string>();
        if (!IPAddress.TryParse(options.Address, out _))
        {
            errors.Add($"MailMesh:Ingress:Address '{options.Address}' is not an IP address.");
        }

        foreach (var network in options.TrustedNetworks ?? [])
        {
            try
            {
                _ = new RelayPolicy([network], []);
            }
            catch (FormatException e)
            {
                errors.Add("MailMesh:Ingress:TrustedNetworks: " + e.Message);
            }
        }

        for (var i = 0; i < options.Users.Count; i++)
        {
            var user = options.Users[i];
            if (user.Name.Length == 0 || !Security.PasswordHash.IsWellFormed(user.PasswordHash))
            {
                errors.Add($"MailMesh:Ingress:Users:{i}: needs a Name and a PasswordHash made by "
                    + "'MailMesh.Ingress hash-password'.");
            }
        }

        foreach (var file in new[] { options.CertificateFile, options.KeyFile })
        {
            if (file is not null && !File.Exists(file))
            {
                errors.Add($"MailMesh:Ingress: TLS file '{file}' does not exist.");
            }
        }

        if (options.DataBlockTimeout <= TimeSpan.Zero || options.CommandTimeout <= TimeSpan.Zero)
        {
            errors.Add("MailMesh:Ingress timeouts must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
