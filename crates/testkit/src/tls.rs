//! A throwaway PKI for TLS tests: a CA, a server certificate for localhost and
//! 127.0.0.1, and a client certificate, written as PEM files to a temp dir.

use std::path::PathBuf;

use dualreport_platform::tls::{ClientTls, ServerTls};
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "dualreport test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
        let issuer = Issuer::new(ca, ca_key);
        let leaf = |name: &str, purpose: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("key");
            let mut params =
                CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("params");
            params.distinguished_name.push(DnType::CommonName, name);
            params.extended_key_usages = vec![purpose];
            let cert = params.signed_by(&key, &issuer).expect("sign");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf("registry", ExtendedKeyUsagePurpose::ServerAuth);
        let (client_cert, client_key) = leaf("scoring", ExtendedKeyUsagePurpose::ClientAuth);
        for (name, pem) in [
            ("ca.pem", ca_cert.pem()),
            ("server.pem", server_cert),
            ("server-key.pem", server_key),
            ("client.pem", client_cert),
            ("client-key.pem", client_key),
        ] {
            std::fs::write(dir.path().join(name), pem).expect("write pem");
        }
        Self { dir }
    }

    pub fn path(&self, name: &str) -> String {
        let path: PathBuf = self.dir.path().join(name);
        path.display().to_string()
    }

    /// Server TLS that requires client certificates from this CA.
    pub fn server_mutual(&self) -> ServerTls {
        ServerTls {
            cert_file: self.path("server.pem"),
            key_file: self.path("server-key.pem"),
            client_ca_file: Some(self.path("ca.pem")),
        }
    }

    /// Client TLS trusting this CA, with or without the client certificate.
    pub fn client(&self, with_certificate: bool) -> ClientTls {
        ClientTls {
            ca_file: self.path("ca.pem"),
            cert_file: with_certificate.then(|| self.path("client.pem")),
            key_file: with_certificate.then(|| self.path("client-key.pem")),
            domain: Some("localhost".to_owned()),
        }
    }

    /// Environment that makes a service process serve with mutual TLS.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DUALREPORT__SERVER__TLS__CERT_FILE", self.path("server.pem")),
            ("DUALREPORT__SERVER__TLS__KEY_FILE", self.path("server-key.pem")),
            ("DUALREPORT__SERVER__TLS__CLIENT_CA_FILE", self.path("ca.pem")),
        ]
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}
