//! `reproduce --jobs`: how many stages run at once. A number, or `auto`: one on the CPU (each
//! stage's libtorch already uses every core), on CUDA the card's memory over an estimate of a
//! stage's peak ([`STAGE_MEMORY_MIB`]), capped at the most stages the graph can run at once.

use std::str::FromStr;

/// An estimate of one stage's peak GPU memory, in MiB, until the training benchmark's measured
/// peak replaces it (issue #20).
pub const STAGE_MEMORY_MIB: u64 = 8 * 1024;

/// What `--jobs` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Decide from the device ([`resolve`]).
    Auto,
    /// This many stages at once (at least one).
    Fixed(usize),
}

impl FromStr for Jobs {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(Jobs::Auto);
        }
        match s.parse::<usize>() {
            Ok(0) => Err(
                "--jobs 0 runs no stage: use 1 to run the stages one after another, \
                 N for up to N at once, or `auto`"
                    .into(),
            ),
            Ok(n) => Ok(Jobs::Fixed(n)),
            Err(_) => Err(format!(
                "--jobs {s}: use a number of stages to run at once (1, 2, …) or `auto`"
            )),
        }
    }
}

/// The number of stages to run at once and why: `device` is `--device`, `gpu_mib` the card's
/// memory (asked only for `auto` on `cuda`/`auto`; `None` without `nvidia-smi`), `widest` the
/// most stages of this invocation the graph lets run at once.
pub fn resolve(
    jobs: Jobs,
    device: &str,
    gpu_mib: impl FnOnce() -> Option<u64>,
    widest: usize,
) -> (usize, String) {
    if let Jobs::Fixed(n) = jobs {
        return (n, format!("--jobs {n}"));
    }
    if device == "cpu" {
        return (
            1,
            "auto on --device cpu: one stage at a time, each uses every core".into(),
        );
    }
    let Some(mib) = gpu_mib() else {
        return (
            1,
            "auto: no GPU memory size (nvidia-smi is absent or failed), one stage at a time".into(),
        );
    };
    let fits = (mib / STAGE_MEMORY_MIB).max(1) as usize;
    let n = fits.min(widest.max(1));
    (
        n,
        format!(
            "auto: {mib} MiB of GPU memory / {STAGE_MEMORY_MIB} MiB per stage (an estimate) = \
             {fits}, capped at the {widest} stages the graph can run at once"
        ),
    )
}

/// The first GPU's memory in MiB from `nvidia-smi`, `None` when it is absent or fails.
pub fn gpu_memory_mib() -> Option<u64> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_is_a_positive_number_or_auto() {
        assert_eq!("auto".parse::<Jobs>(), Ok(Jobs::Auto));
        assert_eq!("3".parse::<Jobs>(), Ok(Jobs::Fixed(3)));
        let zero = "0".parse::<Jobs>().unwrap_err();
        assert!(zero.starts_with("--jobs 0 runs no stage: use 1"), "{zero}");
        assert!("two".parse::<Jobs>().unwrap_err().contains("`auto`"));
    }

    #[test]
    fn auto_is_one_on_the_cpu_and_what_fits_the_card_on_cuda() {
        let card = |mib: u64| move || Some(mib);
        let none = || -> Option<u64> { panic!("a fixed count or the CPU asks no GPU") };
        assert_eq!(resolve(Jobs::Fixed(3), "cpu", none, 6).0, 3);
        assert_eq!(resolve(Jobs::Auto, "cpu", none, 6).0, 1);
        assert_eq!(resolve(Jobs::Auto, "cuda", card(81_559), 6).0, 6, "capped");
        assert_eq!(resolve(Jobs::Auto, "auto", card(24_576), 6).0, 3);
        assert_eq!(
            resolve(Jobs::Auto, "cuda", card(4_096), 6).0,
            1,
            "at least one"
        );
        let (n, why) = resolve(Jobs::Auto, "auto", || None, 6);
        assert_eq!(n, 1);
        assert!(why.contains("nvidia-smi"), "{why}");
        let (_, why) = resolve(Jobs::Auto, "cuda", card(81_559), 6);
        assert!(why.contains("81559 MiB"), "{why}");
    }
}
