//! The `oxcart` binary: configuration precedence (flag > environment >
//! file > default), `migrate`, `demo` and `check-config`.

use std::process::Command;

fn oxcart() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oxcart"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OXCART_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn configuration_layers_in_order_flag_env_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("oxcart.toml");
    std::fs::write(
        &file,
        "log_format = \"pretty\"\nmax_body_bytes = 1234\ndata_dir = \"from-file\"\n[webhooks]\nmax_attempts = 3\n",
    )
    .unwrap();
    let out = oxcart()
        .current_dir(dir.path())
        .args(["--config", file.to_str().unwrap(), "check-config"])
        .env("OXCART_MAX_BODY_BYTES", "4321")
        .env("OXCART_DATA_DIR", "from-env")
        .env("OXCART_WEBHOOKS__MAX_ATTEMPTS", "5")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"log_format\": \"pretty\""), "file value kept: {text}");
    assert!(text.contains("\"max_body_bytes\": 4321"), "env beats file");
    assert!(text.contains("\"max_attempts\": 5"), "nested env keys");
    assert!(text.contains("from-env"));
    assert!(text.contains("database: ok"));

    let out = oxcart()
        .current_dir(dir.path())
        .args(["--config", file.to_str().unwrap(), "--data-dir", "from-flag", "check-config"])
        .env("OXCART_DATA_DIR", "from-env")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("from-flag") && !text.contains("from-env"), "flag beats env: {text}");
}

#[test]
fn migrate_and_demo_prepare_an_empty_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = oxcart().args(["--data-dir", data.to_str().unwrap(), "migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("oxcart.db").exists());
    let out = oxcart().args(["--data-dir", data.to_str().unwrap(), "demo"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("admin@outfitters.example") && text.contains("admin@foodbank.example"));
    // Loading the demo twice is harmless.
    let out = oxcart().args(["--data-dir", data.to_str().unwrap(), "demo"]).output().unwrap();
    assert!(out.status.success());
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let out = oxcart().args(["check-config"]).env("OXCART_MAX_BODY_BYTES", "lots").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid configuration"));
    let out = oxcart().args(["--database-url", "mysql://x", "migrate"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn help_explains_every_subcommand() {
    let out = oxcart().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "demo", "check-config"] {
        assert!(text.contains(cmd), "{cmd} in help");
    }
    let out = oxcart().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--demo") && text.contains("--listen") && text.contains("--data-dir"));
}

#[test]
fn demo_generates_a_multilingual_catalog_of_any_size() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for round in 1..=2 {
        let out = oxcart().args(["--data-dir", data.to_str().unwrap(), "demo", "--products", "25"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("generated 25 products"), "round {round}");
    }
    let dump = dir.path().join("catalog.csv");
    let out = oxcart()
        .args(["--data-dir", data.to_str().unwrap(), "catalog", "export", dump.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&dump).unwrap();
    // 50 generated products × 3 sizes, plus the demo store's own 8 variants.
    assert_eq!(csv::Reader::from_reader(text.as_bytes()).records().count(), 150 + 8);
    assert!(text.contains("GEN-49-L") && ["手机壳", "背包", "夹克", "帐篷", "靴子"].iter().any(|w| text.contains(w)));
}
