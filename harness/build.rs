//! Embeds `scenarios/*.toml` into the binary so the CLI works from any directory.

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("&[\n");
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        // The path is spelled with the *library's* CARGO_MANIFEST_DIR, expanded where the
        // generated list is `include!`d, not baked in here: OUT_DIR is shared by every
        // checkout building into one target directory (cargo hashes path packages relative to
        // the workspace), so an absolute path written by another checkout's build would embed
        // that checkout's scenarios. The library's dep-info then tracks the files themselves.
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../scenarios/\", {name:?}))),"
        );
    }
    out.push(']');
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_scenarios.rs");
    std::fs::write(dest, out).expect("write embedded_scenarios.rs");
}
