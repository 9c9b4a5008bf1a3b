//! Measures the argon2id password hash with the production parameters
//! (19 MiB, t=2, p=1). Run: `cargo bench --bench password_hash`.

use std::time::Instant;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        // Warm up once, then time a series.
        oxcart::services::auth::hash_password("warm up password").await.expect("hash");
        let runs = 20;
        let mut times = Vec::with_capacity(runs);
        for i in 0..runs {
            let start = Instant::now();
            oxcart::services::auth::hash_password(&format!("benchmark password {i}")).await.expect("hash");
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let mean = times.iter().sum::<f64>() / runs as f64;
        println!(
            "argon2id m=19456 KiB t=2 p=1: mean {mean:.1} ms, median {:.1} ms, max {:.1} ms over {runs} hashes",
            times[runs / 2],
            times[runs - 1]
        );
    });
}
