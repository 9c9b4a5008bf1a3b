//! Loading (and on first start creating) the keys that protect personal
//! data. They live in configuration or a key file, never in the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::crypto::Keyring;

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    active: String,
    index_key: String,
    keys: BTreeMap<String, String>,
}

fn random_key() -> String {
    let mut k = [0u8; 32];
    rand::rng().fill_bytes(&mut k);
    B64.encode(k)
}

pub fn default_key_file(config: &Config) -> PathBuf {
    config.data_dir.join("secrets").join("keys.toml")
}

fn is_postgres(config: &Config) -> bool {
    config.database_url().starts_with("postgres")
}

/// The keyring for this installation.
pub fn load_keyring(config: &Config) -> anyhow::Result<Keyring> {
    let sec = &config.security;
    if !sec.keys.is_empty() {
        let active = sec.active_key.clone().or_else(|| sec.keys.keys().next_back().cloned()).unwrap_or_default();
        let index = sec.index_key.as_deref().context("security.index_key must be set along with security.keys")?;
        return Keyring::new(&active, &sec.keys, index).context("invalid security keys in configuration");
    }
    let path = sec.key_file.clone().unwrap_or_else(|| default_key_file(config));
    if !path.exists() {
        if sec.key_file.is_some() || is_postgres(config) {
            bail!(
                "no encryption keys: set security.keys/index_key or security.key_file (file {} does not exist); \
                 PostgreSQL nodes must share the same keys",
                path.display()
            );
        }
        create_key_file(&path)?;
        tracing::info!(path = %path.display(), "created a new key file for personal data; back it up");
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading key file {}", path.display()))?;
    let file: KeyFile = toml_from_str(&text).with_context(|| format!("parsing key file {}", path.display()))?;
    Keyring::new(&file.active, &file.keys, &file.index_key)
        .with_context(|| format!("invalid key file {}", path.display()))
}

fn toml_from_str(text: &str) -> anyhow::Result<KeyFile> {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    Ok(Figment::from(Toml::string(text)).extract()?)
}

fn create_key_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut keys = BTreeMap::new();
    keys.insert("k1".to_string(), random_key());
    let text = render(&KeyFile { active: "k1".into(), index_key: random_key(), keys });
    write_private(path, &text)
}

/// Adds a new key and makes it active (old keys stay to read old values).
pub fn add_key_to_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let mut file = toml_from_str(&text)?;
    let next = (1..).map(|n| format!("k{n}")).find(|id| !file.keys.contains_key(id)).expect("an unused key id");
    file.keys.insert(next.clone(), random_key());
    file.active = next.clone();
    write_private(path, &render(&file))?;
    Ok(next)
}

fn render(file: &KeyFile) -> String {
    let mut out = format!(
        "# Oxcart encryption keys. Keep secret, back up, never commit.\nactive = \"{}\"\nindex_key = \"{}\"\n\n[keys]\n",
        file.active, file.index_key
    );
    for (id, key) in &file.keys {
        out.push_str(&format!("{id} = \"{key}\"\n"));
    }
    out
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
