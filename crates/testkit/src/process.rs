//! Runs another service of the suite as a real process, the way it is
//! deployed: the service's own binary, its own SQLite database in a temp dir,
//! configured through `DUALREPORT__…` variables, on a port it picks itself.
//!
//! Binaries are found next to the test executable (`target/<profile>/`), where
//! `cargo nextest run --workspace` (and `make test`) builds them; set
//! `DUALREPORT_BIN_DIR` to use others.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::TEST_SECRET;

/// A running service process, killed on drop.
pub struct ServiceProcess {
    pub name: String,
    pub port: u16,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    /// The environment it was started with, for [`Self::restart`].
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DUALREPORT_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/<test binary>
    let exe = std::env::current_exe().expect("current exe");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

impl ServiceProcess {
    /// Starts `name` with the test secret, a fresh SQLite file and `env`
    /// (pairs like `("DUALREPORT__POLICY__PRESET", "S3")`), and waits until it
    /// listens.
    pub fn start(name: &str, env: &[(&str, String)]) -> Self {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let (child, port, logs) = Self::spawn(name, &env, &dir, 0);
        Self {
            name: name.to_owned(),
            port,
            child,
            logs,
            env,
            dir,
        }
    }

    /// Starts the process again after [`Self::stop`] or [`Self::terminate`]:
    /// the same environment, files and port, so its peers find it where it was.
    pub fn restart(&mut self) {
        self.stop();
        // While it was down, another socket of this machine (an outgoing
        // connection's local port, say) may hold the port for a moment.
        let started = std::time::Instant::now();
        while std::net::TcpListener::bind(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{}'s port {} stayed taken",
                self.name,
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let (child, port, logs) = Self::spawn(&self.name, &self.env, &self.dir, self.port);
        assert_eq!(port, self.port, "{} came back on another port", self.name);
        self.child = child;
        self.logs = logs;
    }

    fn spawn(
        name: &str,
        env: &[(String, String)],
        dir: &tempfile::TempDir,
        port: u16,
    ) -> (Child, u16, Arc<Mutex<Vec<String>>>) {
        let binary = bin_dir().join(name);
        assert!(
            binary.exists(),
            "{} is missing: build it first (`cargo build -p {name}`; `make test` does)",
            binary.display()
        );
        let mut command = Command::new(&binary);
        for (key, _) in std::env::vars() {
            if key.starts_with("DUALREPORT") {
                command.env_remove(key);
            }
        }
        command
            .arg("serve")
            .env("DUALREPORT__SERVER__HOST", "127.0.0.1")
            .env("DUALREPORT__SERVER__PORT", port.to_string())
            .env("DUALREPORT__SERVER__METRICS_PORT", "0")
            .env(
                "DUALREPORT__DATABASE__URL",
                format!("sqlite://{}?mode=rwc", dir.path().join(format!("{name}.db")).display()),
            )
            .env("DUALREPORT__AUTH__DEV_HS256_SECRET", TEST_SECRET)
            .env("DUALREPORT__TELEMETRY__LOG_FORMAT", "json")
            .env("DUALREPORT__TELEMETRY__LOG_LEVEL", "info")
            .env_remove("RUST_LOG")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = logs.clone();
        // Reads the JSON log, reports the port of the "listening" line, keeps every line.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && line.contains("listening") {
                    let _ = tx.send(port_in(&line));
                    sent = true;
                }
                kept.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(line);
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let logged = logs
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .join("\n");
                panic!("{name} did not report its port: {other:?}; it logged:\n{logged}");
            }
        };
        (child, port, logs)
    }

    /// The JSON log lines the process has written so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Kills the process now (tests of a peer that stopped answering).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the exit: how long it took and whether it
    /// exited cleanly (what a Kubernetes rollout does to a pod).
    pub fn terminate(&mut self) -> (Duration, bool) {
        let started = std::time::Instant::now();
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(signalled, "could not signal {}", self.name);
        let status = self.child.wait().expect("wait for exit");
        (started.elapsed(), status.success())
    }

    /// The process's resident memory (VmRSS) in MiB, on Linux.
    pub fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The `"port":N` field of a JSON log line.
fn port_in(line: &str) -> Option<u16> {
    let rest = &line[line.find("\"port\":")? + 7..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
