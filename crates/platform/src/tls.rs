//! TLS for serving and calling (rustls), with mutual TLS when a client CA is
//! configured on the server and a client certificate on the caller.
//!
//! Files are PEM and read at start-up; a missing or malformed file stops the
//! process with the path in the message. Rotation is a rolling restart (the
//! chart's `checksum/config` does not see Secret changes: restart on renewal).

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// `server.tls`: the server's certificate and key; with `client_ca_file`,
/// every client must present a certificate signed by that CA (mutual TLS).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerTls {
    pub cert_file: String,
    pub key_file: String,
    #[serde(default)]
    pub client_ca_file: Option<String>,
}

/// `<peer>.tls`: the CA that signed the peer's certificate; with `cert_file`
/// and `key_file`, this service's client certificate (mutual TLS).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClientTls {
    pub ca_file: String,
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
    /// The name the peer's certificate must carry, when it is not the URL's host.
    #[serde(default)]
    pub domain: Option<String>,
}

fn read(path: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the {what} {path}"))
}

pub fn server_config(tls: &ServerTls) -> anyhow::Result<ServerTlsConfig> {
    let identity = Identity::from_pem(
        read(&tls.cert_file, "server certificate")?,
        read(&tls.key_file, "server key")?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca_file {
        config = config.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
    }
    Ok(config)
}

pub fn client_config(tls: &ClientTls) -> anyhow::Result<ClientTlsConfig> {
    let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&tls.ca_file, "peer CA")?));
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(
                read(cert, "client certificate")?,
                read(key, "client key")?,
            ));
        }
        (None, None) => {}
        _ => anyhow::bail!("a client certificate needs both cert_file and key_file"),
    }
    if let Some(domain) = &tls.domain {
        config = config.domain_name(domain.clone());
    }
    Ok(config)
}
