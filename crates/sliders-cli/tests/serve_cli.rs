//! `sliders serve` as scripts and the browser test run it: `--port 0` prints the bound URL on
//! stdout (loopback by default) and the server answers there; a model folder that cannot be
//! opened, or models that cannot share a page, end the command with a message naming the fix.

mod support;

use std::ffi::OsStr;
use std::process::Command;
use support::{Server, fader_model, http};

#[test]
fn serve_prints_its_loopback_url_and_answers_there() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("fader-smiling");
    fader_model(&run, &["Smiling"], 16);
    let server = Server::start([OsStr::new("--model"), run.as_os_str()]);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let answer = http(&server.addr, "GET", "/api/models", "text/plain", b"");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer.text().contains("\"fader-smiling\""),
        "{}",
        answer.text()
    );
}

#[test]
fn serve_refuses_models_it_cannot_use_and_says_how_to_fix_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    fader_model(&a, &["Smiling"], 16);
    fader_model(&b, &["Smiling"], 32);
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
