//! The fuzz corpora on the stable toolchain: every committed seed (`fuzz/corpus/<target>/seed-*`)
//! and every crash regression (`fuzz/regressions/<target>/*`) goes through exactly the code its
//! `cargo fuzz` target runs, so an input that once crashed a parser is a `cargo test` failure
//! if it crashes again. docs/fuzzing.md: how a crash becomes a file here.

use mitid_harness::{Catalogue, SpConfig};
use mitid_mock_broker::fuzzing;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// One input for `target`, as `fuzz/fuzz_targets/<target>.rs` runs it.
fn run(target: &str, data: &[u8]) {
    match target {
        "sp_toml" => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = SpConfig::from_toml_str(text, "sp.toml", Path::new("/nonexistent"));
            }
        }
        "scenario_toml" => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = Catalogue::empty().add_toml(text, "fuzz.toml");
            }
        }
        broker => {
            let _ = fuzzing::run(broker, data);
        }
    }
}

const HARNESS_TARGETS: &[&str] = &["sp_toml", "scenario_toml"];

fn all_targets() -> Vec<&'static str> {
    fuzzing::TARGETS
        .iter()
        .chain(HARNESS_TARGETS)
        .copied()
        .collect()
}

/// The files of `dir` whose names pass `keep`, sorted (none if `dir` does not exist).
fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    v.sort();
    v
}

#[test]
fn every_fuzz_target_has_a_binary_and_seeds() {
    let dir = fuzz_dir();
    for t in all_targets() {
        assert!(
            dir.join("fuzz_targets").join(format!("{t}.rs")).is_file(),
            "fuzz/fuzz_targets/{t}.rs is missing"
        );
        let seeds = files(&dir.join("corpus").join(t), |n| n.starts_with("seed-"));
        assert!(!seeds.is_empty(), "fuzz/corpus/{t} has no seed-* files");
    }
    // And no binary without an entry here (a target nobody replays).
    for f in files(&dir.join("fuzz_targets"), |n| n.ends_with(".rs")) {
        let name = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert!(all_targets().contains(&name), "{name} is not replayed here");
    }
}

#[test]
fn seed_corpora_replay_without_panics() {
    let dir = fuzz_dir();
    for t in all_targets() {
        for f in files(&dir.join("corpus").join(t), |n| n.starts_with("seed-")) {
            run(t, &std::fs::read(&f).expect("seed readable"));
        }
    }
}

#[test]
fn fuzz_regressions_replay_without_panics() {
    let dir = fuzz_dir().join("regressions");
    for t in all_targets() {
        for f in files(&dir.join(t), |n| !n.starts_with('.') && !n.ends_with(".md")) {
            let data = std::fs::read(&f).expect("regression input readable");
            let started = std::time::Instant::now();
            run(t, &data);
            // A hang found by the fuzzer must stay fixed: generous for debug builds.
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{} took {:?}",
                f.display(),
                started.elapsed()
            );
        }
    }
}
