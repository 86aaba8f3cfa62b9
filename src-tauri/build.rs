fn main() {
    tauri_build::build();
    // Identical functions (generic copies that compile to the same code) kept
    // once: about 0.12 MB of the release binary's 15 MB budget. Rust on
    // x86_64 Linux links with its own lld since 1.90, which has --icf; only
    // release builds, where size is measured and link time does not matter.
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" && std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}
