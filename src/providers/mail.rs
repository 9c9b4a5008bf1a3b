//! Sending e-mail. The built-in transport writes each message as an `.eml`
//! file into a mailbox directory (one folder per store), which is what the
//! demo and the tests read; an SMTP transport is the next variant.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum Transport {
    Mailbox(PathBuf),
}

impl Transport {
    pub async fn send(&self, store_slug: &str, id: &str, m: &Message) -> Result<(), String> {
        match self {
            Transport::Mailbox(dir) => {
                let dir = dir.join(store_slug);
                tokio::fs::create_dir_all(&dir).await.map_err(|e| e.to_string())?;
                let date = chrono::Utc::now().to_rfc2822();
                let eml = format!(
                    "Message-ID: <{id}@oxcart>\r\nDate: {date}\r\nFrom: {}\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
                    header(&m.from),
                    header(&m.to),
                    header(&m.subject),
                    m.text.replace('\n', "\r\n")
                );
                let tmp = dir.join(format!("{id}.eml.tmp"));
                tokio::fs::write(&tmp, eml).await.map_err(|e| e.to_string())?;
                tokio::fs::rename(&tmp, dir.join(format!("{id}.eml"))).await.map_err(|e| e.to_string())
            }
        }
    }
}

/// Header values must not carry line breaks (header injection).
fn header(v: &str) -> String {
    v.replace(['\r', '\n'], " ")
}
