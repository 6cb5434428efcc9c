//! A live `sliders serve` process under hostile uploads (issue #22): every hostile case, then
//! eight at once, then eight large-but-allowed RGBA photos at once (retried on 503 as
//! `Retry-After` says), then a normal upload and edit, which must still work; the server's peak
//! resident memory (`VmHWM` of the child process) must stay under [`PEAK_RSS_BOUND_MB`].

#[path = "../../sliders-celeba/tests/hostile_files/mod.rs"]
mod hostile;

use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, checkpoint};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tch::{Device, nn::VarStore};

/// The server's memory budget in this test.
const BUDGET_MB: u64 = 400;
/// The bound on the server's peak RSS. The large uploads are 5000x5000 RGBA PNGs: each decode
/// peaks at about 100 MB (RGBA8 composited into RGB8 in place), and the 400 MB budget admits
/// two at once. The old code decoded each through f32 RGBA (about 575 MB per photo) with no
/// bound on how many at once: eight concurrent uploads took it past 4 GB.
const PEAK_RSS_BOUND_MB: u64 = 1000;

fn model(dir: &Path) {
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 16,
        n_attr: 2,
        ..FaderConfig::small(16)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        dir.join("last_ae.safetensors"),
        &[
            ("sliders.attributes", r#"["Smiling"]"#),
            ("sliders.framing", "fader"),
            ("sliders.image_size", "16"),
        ],
    )
    .unwrap();
}

/// Kills the server when the test ends, even on a failed assertion.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn retry_after(&self) -> Option<u64> {
        self.head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after:")
                    .map(str::to_string)
            })
            .and_then(|v| v.trim().parse().ok())
    }
}

/// One HTTP/1.1 request on its own connection.
fn http(addr: &str, method: &str, path: &str, ctype: &str, body: &[u8]) -> Answer {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ctype}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before the whole body is read; a reset then is fine.
    let _ = conn.write_all(body);
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head[9..12].parse().unwrap();
    Answer {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn upload(addr: &str, bytes: &[u8]) -> Answer {
    http(addr, "POST", "/api/sessions", "image/png", bytes)
}

fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024
}

fn start(run: &Path) -> (Server, String) {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_sliders"))
            .args([
                "serve",
                "--port",
                "0",
                "--workers",
                "4",
                "--memory-budget-mb",
            ])
            .arg(BUDGET_MB.to_string())
            .arg("--model")
            .arg(run)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("sliders serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    (server, addr.to_string())
}

fn normal_request_works(addr: &str) {
    let a = upload(addr, &hostile::good_png());
    assert_eq!(a.status, 201, "{}", a.text());
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    let id = v["session"].as_str().unwrap();
    let edit = br#"{"models": [{"model": 0, "values": {"Smiling": 2}}]}"#;
    let path = format!("/api/sessions/{id}/edit");
    let a = http(addr, "POST", &path, "application/json", edit);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.body.starts_with(b"\x89PNG"));
}

#[test]
fn a_live_server_survives_hostile_and_concurrent_large_uploads_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("fader-smiling");
    model(&run);
    let (server, addr) = start(&run);
    let pid = server.0.id();
    let cases = hostile::all_cases();
    for (name, bytes) in &cases {
        let a = upload(&addr, bytes);
        assert!(
            matches!(a.status, 413 | 422),
            "{name}: {} {}",
            a.status,
            a.text()
        );
        assert!(a.text().starts_with("{\"error\":"), "{name}: {}", a.text());
    }
    normal_request_works(&addr);
    // Eight hostile uploads at once.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (addr, body) = (&addr, &cases[i % cases.len()].1);
                s.spawn(move || upload(addr, body).status)
            })
            .collect();
        for h in handles {
            assert!(matches!(h.join().unwrap(), 413 | 422));
        }
    });
    let before = peak_rss_mb(pid);
    // Eight large photos within the limits at once: each is done, some after a 503.
    let large = hostile::rgba_giant(5_000, 5_000);
    let started = Instant::now();
    let retries: u32 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (addr, body) = (&addr, &large);
                s.spawn(move || {
                    let mut retries = 0;
                    loop {
                        let a = upload(addr, body);
                        if a.status == 201 {
                            return retries;
                        }
                        assert_eq!(a.status, 503, "{}", a.text());
                        assert!(retries < 200, "still busy after {retries} tries");
                        retries += 1;
                        let wait = a.retry_after().expect("503 says Retry-After");
                        std::thread::sleep(Duration::from_millis(100 * wait.min(5)));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    normal_request_works(&addr);
    let peak = peak_rss_mb(pid);
    eprintln!(
        "peak RSS of the server: {peak} MB (bound {PEAK_RSS_BOUND_MB} MB; {before} MB before the \
         large uploads); 8 large uploads in {:.1} s with {retries} retries after 503",
        started.elapsed().as_secs_f64()
    );
    assert!(
        peak < PEAK_RSS_BOUND_MB,
        "peak RSS {peak} MB over {PEAK_RSS_BOUND_MB} MB"
    );
}
