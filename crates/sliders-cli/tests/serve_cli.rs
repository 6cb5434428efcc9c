//! `sliders serve` as scripts and the browser test run it: `--port 0` prints the bound URL on
//! stdout (loopback by default) and the server answers there; a model folder that cannot be
//! opened, or models that cannot share a page, end the command with a message naming the fix.

use sliders_config::nets::FaderConfig;
use sliders_nets::FaderAutoEncoder;
use sliders_nets::checkpoint;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use tch::{Device, nn::VarStore};

fn model(dir: &Path, size: i64) {
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 16,
        n_attr: 2,
        ..FaderConfig::small(size)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    let size = size.to_string();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        dir.join("last_ae.safetensors"),
        &[
            ("sliders.attributes", r#"["Smiling"]"#),
            ("sliders.framing", "fader"),
            ("sliders.image_size", size.as_str()),
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

#[test]
fn serve_prints_its_loopback_url_and_answers_there() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("fader-smiling");
    model(&run, 16);
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_sliders"))
            .args(["serve", "--port", "0", "--model"])
            .arg(&run)
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
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /api/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"fader-smiling\""), "{answer}");
}

#[test]
fn serve_refuses_models_it_cannot_use_and_says_how_to_fix_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    model(&a, 16);
    model(&b, 32);
    for (args, says) in [
        (vec![tmp.path().join("missing")], "cannot read it"),
        (vec![a, b], "one image size and framing"),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sliders"));
        cmd.args(["serve", "--port", "0"]);
        for m in &args {
            cmd.arg("--model").arg(m);
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}");
        assert!(text.contains(says), "`{says}` not in: {text}");
    }
}
