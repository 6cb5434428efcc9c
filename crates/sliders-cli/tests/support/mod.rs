//! What the `sliders` command tests share: a tiny random Fader model folder saved with the
//! metadata `sliders train` writes, running `sliders` and reading its output, a live
//! `sliders serve` (stopped when the test ends, even on a failed assertion) and plain HTTP/1.1
//! requests to it. Each test file uses part of it.
#![allow(dead_code)]

use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, checkpoint};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use tch::{Device, nn::VarStore};

/// Saves a tiny random Fader autoencoder for `attributes` at `size` px into `dir/last_ae.safetensors`.
pub fn fader_model(dir: &Path, attributes: &[&str], size: i64) {
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 16,
        n_attr: 2 * attributes.len() as i64,
        ..FaderConfig::small(size)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    let names = serde_json::to_string(attributes).unwrap();
    let size = size.to_string();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        dir.join("last_ae.safetensors"),
        &[
            ("sliders.attributes", names.as_str()),
            ("sliders.framing", "fader"),
            ("sliders.image_size", size.as_str()),
        ],
    )
    .unwrap();
}

/// Runs `sliders` with `args` to the end.
pub fn sliders(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sliders"))
        .args(args)
        .output()
        .unwrap()
}

/// A finished command's stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running `sliders serve`, killed when dropped.
pub struct Server {
    /// The process.
    pub child: std::process::Child,
    /// The URL it printed (`http://127.0.0.1:PORT/`).
    pub url: String,
    /// `host:port` of that URL.
    pub addr: String,
}

impl Server {
    /// Starts `sliders serve --port 0` with `extra` arguments (models, limits) and waits for the
    /// line that names its URL.
    pub fn start<S: AsRef<OsStr>>(extra: impl IntoIterator<Item = S>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sliders"))
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("sliders serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Self { child, url, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, head and body.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Retry-After` header in seconds.
    pub fn retry_after(&self) -> Option<u64> {
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

/// One HTTP/1.1 request on its own connection (`Host` is `addr`).
pub fn http(addr: &str, method: &str, path: &str, ctype: &str, body: &[u8]) -> Answer {
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

/// Uploads a photo as a new session (`POST /api/sessions`).
pub fn upload(addr: &str, bytes: &[u8]) -> Answer {
    http(addr, "POST", "/api/sessions", "image/png", bytes)
}
