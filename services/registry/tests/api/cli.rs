//! The binary's subcommands: settings from the environment, `token` only with
//! a development key, `migrate` on a fresh database.

use std::process::Command;

fn registry() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_registry"));
    // Nothing from the developer's shell may leak into these runs.
    for (key, _) in std::env::vars() {
        if key.starts_with("DUALREPORT") {
            command.env_remove(key);
        }
    }
    command
}

#[test]
fn environment_overrides_defaults_and_secrets_stay_hidden() {
    let output = registry()
        .args(["config"])
        .env("DUALREPORT__SERVER__PORT", "6123")
        .env(
            "DUALREPORT__AUTH__DEV_HS256_SECRET",
            "super-secret-value-0123456789abcdef",
        )
        .env(
            "DUALREPORT__REGISTRY__PII_KEYS__K9",
            "cGlpLWtleS12YWx1ZS0wMTIzNDU2Nzg5YWJjZGVmMDE=",
        )
        .env("DUALREPORT__POLICY__PRESET", "S2")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("\nport = 6123\n"), "{printed}");
    assert!(printed.contains("preset = \"S2\""), "{printed}");
    // The policy is printed resolved: S2's member deadline, not only the preset's name.
    assert!(printed.contains("member_report_window_end = \"10-31\""), "{printed}");
    assert!(
        printed.contains("[registry.pii_keys]\nk9 = \"[redacted]\""),
        "{printed}"
    );
    assert!(!printed.contains("super-secret-value"), "{printed}");
    assert!(!printed.contains("cGlpLWtleS12YWx1ZS"), "{printed}");
}

#[test]
fn an_unknown_key_stops_the_binary_naming_it_and_its_source() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[server]\nprot = 6000\n").expect("write");
    let output = registry()
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .output()
        .expect("run");
    assert!(!output.status.success(), "a typo must not start on the default port");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains(&format!("`server.prot` (file {})", file.display())),
        "{error}"
    );
    let output = registry()
        .arg("config")
        .env("DUALREPORT__WEBHOOK__ALLOW_HTTP", "true")
        .output()
        .expect("run");
    assert!(!output.status.success(), "another service's key is refused");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("`webhook` (environment variable DUALREPORT__WEBHOOK__ALLOW_HTTP)"),
        "{error}"
    );
}

#[test]
fn tokens_are_minted_only_with_a_development_key() {
    let refused = registry()
        .args(["token", "--role", "city_admin", "--org", "city"])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no development key"));
    // A role scoped to an org, or a member, is refused without it.
    for (role, flag) in [("community_admin", "--org"), ("member", "--member")] {
        let unscoped = registry()
            .args(["token", "--role", role])
            .env(
                "DUALREPORT__AUTH__DEV_HS256_SECRET",
                "dev-secret-0123456789abcdef0123456789",
            )
            .output()
            .expect("run");
        assert!(!unscoped.status.success(), "{role}");
        assert!(String::from_utf8_lossy(&unscoped.stderr).contains(flag), "{role}");
    }

    let minted = registry()
        .args(["token", "--role", "member", "--member", "m1"])
        .env(
            "DUALREPORT__AUTH__DEV_HS256_SECRET",
            "dev-secret-0123456789abcdef0123456789",
        )
        .output()
        .expect("run");
    assert!(minted.status.success(), "{}", String::from_utf8_lossy(&minted.stderr));
    assert_eq!(
        String::from_utf8_lossy(&minted.stdout).trim().split('.').count(),
        3,
        "a JWT"
    );
}

#[test]
fn migrate_prepares_a_fresh_database() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/fresh.db?mode=rwc", dir.path().display());
    let mut said = Vec::new();
    for _ in 0..2 {
        let output = registry()
            .arg("migrate")
            .env("DUALREPORT__DATABASE__URL", &url)
            .output()
            .expect("run");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        said.push(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    assert!(dir.path().join("fresh.db").exists());
    assert!(
        said[0].contains("applied") && said[0].contains("1 registry"),
        "{}",
        said[0]
    );
    assert!(said[1].contains("up to date"), "{}", said[1]);
    // A database out of reach: which one (never the password) and why.
    let output = registry()
        .arg("migrate")
        .env(
            "DUALREPORT__DATABASE__URL",
            "postgres://registry:hunter2@127.0.0.1:1/registry",
        )
        .output()
        .expect("run");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("migrating postgres 127.0.0.1:1/registry"), "{error}");
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}

#[tokio::test]
async fn probe_reports_serving_and_fails_on_a_dead_port() {
    let app = crate::helpers::spawn(crate::helpers::Backend::Sqlite).await;
    let port = app.port;
    let probe = |url: String, service: &'static str| {
        tokio::task::spawn_blocking(move || {
            registry()
                .args(["probe", "--url", &url, "--service", service, "--timeout-secs", "2"])
                .output()
                .expect("run probe")
        })
    };
    let ok = probe(
        format!("http://127.0.0.1:{port}"),
        "dualreport.registry.v1.RegistryService",
    )
    .await
    .expect("join");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "SERVING");
    let unknown = probe(format!("http://127.0.0.1:{port}"), "no.Such")
        .await
        .expect("join");
    assert!(!unknown.status.success(), "an unknown service is not serving");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = listener.local_addr().expect("addr").port();
    drop(listener);
    let down = probe(format!("http://127.0.0.1:{dead}"), "").await.expect("join");
    assert!(!down.status.success());
    // Without --url, the probe asks this service's own port (`server.port`).
    let own = tokio::task::spawn_blocking(move || {
        registry()
            .args(["probe", "--timeout-secs", "2"])
            .env("DUALREPORT__SERVER__PORT", port.to_string())
            .output()
            .expect("run probe")
    })
    .await
    .expect("join");
    assert!(own.status.success(), "{}", String::from_utf8_lossy(&own.stderr));
}
