//! A live `sliders serve` process under hostile uploads (issue #22): every hostile case, then
//! eight at once, then eight large-but-allowed RGBA photos at once (retried on 503 as
//! `Retry-After` says), then a normal upload and edit, which must still work; the server's peak
//! resident memory (`VmHWM` of the child process) must stay under [`PEAK_RSS_BOUND_MB`].

#[path = "../../sliders-celeba/tests/hostile_files/mod.rs"]
mod hostile;

mod support;

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Server, fader_model, http, upload};

/// The server's memory budget in this test.
const BUDGET_MB: u64 = 400;
/// The bound on the server's peak RSS. The large uploads are 5000x5000 RGBA PNGs: each decode
/// peaks at about 100 MB (RGBA8 composited into RGB8 in place), and the 400 MB budget admits
/// two at once. The old code decoded each through f32 RGBA (about 575 MB per photo) with no
/// bound on how many at once: eight concurrent uploads took it past 4 GB.
const PEAK_RSS_BOUND_MB: u64 = 1000;

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
    let budget = BUDGET_MB.to_string();
    let server = Server::start([
        OsStr::new("--workers"),
        OsStr::new("4"),
        OsStr::new("--memory-budget-mb"),
        OsStr::new(&budget),
        OsStr::new("--model"),
        run.as_os_str(),
    ]);
    let addr = server.addr.clone();
    (server, addr)
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
    fader_model(&run, &["Smiling"], 16);
    let (server, addr) = start(&run);
    let pid = server.child.id();
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
    // Eight large photos within the limits at once: each is decoded and searched for a face
    // (none: it is blank), some after a 503.
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
                        // Done: a session (201), or the face detector's verdict on this blank
                        // photo (422, no face), reached after the decode and the detection that
                        // the memory budget must bound.
                        if a.status == 201
                            || (a.status == 422 && a.text().contains("no face found"))
                        {
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
