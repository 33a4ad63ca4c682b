using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailMesh.Ingress.Security;

/// <summary>
/// The certificate STARTTLS presents: read from the configured PEM files, or, when none are
/// configured, made at start and signed by itself, so TLS works out of the box in development.
/// </summary>
internal sealed class TlsCertificateSource
{
    private readonly Lazy<X509Certificate2> _certificate;

    public TlsCertificateSource(IngressOptions options, string hostname, TimeProvider time)
    {
        IsSelfSigned = options.CertificateFile is null;
        _certificate = new Lazy<X509Certificate2>(() => options.CertificateFile is { } file
            ? X509Certificate2.CreateFromPemFile(file, options.KeyFile)
            : CreateSelfSigned(hostname, time));
    }

    public bool IsSelfSigned { get; }

    public X509Certificate2 Certificate => _certificate.Value;

    private static X509Certificate2 CreateSelfSigned(string hostname, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = time.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));

        // Through PKCS#12 so the key is usable by every TLS backend, not only as an ephemeral key.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
