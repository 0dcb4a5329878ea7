//! Profile loading end to end: any bytes as a profile file, then (if it loads) the pure render.
//! A file on tmpfs, not an in-memory shortcut, so `extends` resolution runs as it does for users.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap());
    let path = dir.path().join("profile.yaml");
    std::fs::write(&path, data).unwrap();
    if let Ok(profile) = obsctl::profile::load_file(&path) {
        let _ = obsctl::render::render(&profile);
    }
});
