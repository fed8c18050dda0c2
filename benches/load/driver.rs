//! The HTTP load driver shared by the load benchmarks: keeps `concurrency` keep-alive
//! connections busy for `seconds`, checks the answer once, and reports requests/s and latency
//! percentiles.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One thread per runtime: server and client each get one core of a 2-core machine.
/// How long and how wide to drive. `cargo test --benches` passes `--test`: a 1 s smoke run then;
/// otherwise `LOAD_SECONDS` (default 10) and `LOAD_CONCURRENCY` (default 32).
pub struct Settings {
    pub smoke: bool,
    pub seconds: u64,
    pub concurrency: usize,
}

impl Settings {
    pub fn from_env() -> Settings {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let smoke = std::env::args().any(|a| a == "--test");
        let seconds = if smoke {
            1
        } else {
            env_or("LOAD_SECONDS", 10u64)
        };
        Settings {
            smoke,
            seconds,
            concurrency: env_or("LOAD_CONCURRENCY", 32usize),
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// What to load: a POST of `body` to `path`, whose answer `check` accepts.
pub struct Target<'a> {
    pub addr: SocketAddr,
    pub path: &'a str,
    pub body: &'a Value,
    pub check: &'a (dyn Fn(&Value) -> bool + Sync),
}

pub struct Measured {
    pub rps: f64,
    pub latencies: Vec<Duration>,
}

pub async fn drive(target: &Target<'_>, seconds: u64, concurrency: usize) -> Measured {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .http1_only()
        .build()
        .unwrap();
    let url = format!("http://{}{}", target.addr, target.path);
    let payload = serde_json::to_vec(target.body).unwrap();
    // Warm up and check the answer once.
    let got: Value = client
        .post(&url)
        .header("content-type", "application/json")
        .body(payload.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!((target.check)(&got), "{} answers {got}", target.path);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, payload) = (client.clone(), url.clone(), payload.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(1 << 16);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let resp = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(payload.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(resp.status().is_success(), "{}", resp.status());
                    let _ = resp.bytes().await.unwrap();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Measured {
        rps: latencies.len() as f64 / elapsed,
        latencies,
    }
}

pub fn report(name: &str, r: &Measured) {
    let pct =
        |p: f64| r.latencies[((r.latencies.len() as f64 * p) as usize).min(r.latencies.len() - 1)];
    println!(
        "{name:<24} {:>9.0} req/s   p50 {:>7.2?}   p99 {:>7.2?}   ({} requests)",
        r.rps,
        pct(0.50),
        pct(0.99),
        r.latencies.len()
    );
}
