//! Fills the demo store's journal for the ledger benchmark (see
//! `bench/payments.sh`): ENTRIES balanced entries of two lines each, every
//! one debiting `clearing:test_card` and crediting one of 1,000 customers'
//! receivables, posted through the same code as payments
//! (`services::ledger::post`), 5,000 entries per transaction.
//!
//! Usage: cargo run --release --example ledger_fill -- DATA_DIR [ENTRIES]

use std::time::Instant;

use oxcart::config::{Config, Overrides};
use oxcart::domain::ledger::{Account, EntryBuilder};
use oxcart::domain::money::Currency;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let data_dir = args.get(1).expect("DATA_DIR").into();
    let entries: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let overrides = Overrides { listen: None, data_dir: Some(data_dir), database_url: None };
    let config = Config::load(None, &overrides).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = oxcart::startup::open_database(&config).await?;
    let app = oxcart::startup::app(db, config)?;
    let store = oxcart::db::stores::list(app.db.pool()).await?.into_iter().find(|s| s.slug == "outfitters");
    let store = store.expect("the demo store (run `oxcart demo` first)");
    let started = Instant::now();
    let mut done = 0;
    while done < entries {
        let mut tx = app.db.begin_bulk().await?;
        for i in done..(done + 5_000).min(entries) {
            let entry = EntryBuilder::new()
                .debit(Account::Clearing.of("test_card"), Currency::EUR, 100)
                .credit(Account::Receivable.of(&format!("cus_bench{:04}", i % 1000)), Currency::EUR, 100)
                .build()?;
            let reference = format!("ord_bench{i}");
            oxcart::services::ledger::post(
                &mut tx,
                &store.id,
                "payment_captured",
                &reference,
                "bench",
                "bench",
                &entry,
            )
            .await?;
        }
        tx.commit().await?;
        done = (done + 5_000).min(entries);
        if done % 100_000 == 0 {
            println!("{done} entries ({} lines) in {:.0} s", done * 2, started.elapsed().as_secs_f64());
        }
    }
    println!(
        "filled {entries} entries ({} lines) in {:.1} s = {:.0} entries/s",
        entries * 2,
        started.elapsed().as_secs_f64(),
        entries as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}
