//! Scale benchmark of the fingerprint index and clustering alone (no text): N random 64-bit
//! fingerprints with 1% planted near copies at distances 0..=k, candidate pairs by the
//! block-permutation index, then union-find clusters. Prints one line per N: wall time,
//! peak RSS, bytes per fingerprint.
//!
//! ```sh
//! cargo bench --bench index -- 1000000 10000000   # one process per N (peak RSS is per process)
//! ```
//! `bench/index.sh` runs the whole series and is what BENCHMARKS.md quotes.

use std::time::Instant;

use pagesieve::dedup::index::pairs_within;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let k = 3;
    let sizes = if args.is_empty() {
        vec![1_000_000]
    } else {
        args
    };
    for n in sizes {
        let base_kb = status_kb("VmRSS:");
        let mut rng = n ^ 0xA5A5;
        let t0 = Instant::now();
        let mut fps: Vec<u64> = Vec::with_capacity(n as usize);
        let planted = n / 100;
        while (fps.len() as u64) < n - planted {
            fps.push(splitmix(&mut rng));
        }
        for i in 0..planted {
            let src = fps[(splitmix(&mut rng) % (n - planted)) as usize];
            let mut f = src;
            for _ in 0..(i % (k as u64 + 1)) {
                f ^= 1 << (splitmix(&mut rng) % 64);
            }
            fps.push(f);
        }
        let gen = t0.elapsed();

        let t = Instant::now();
        let pairs = pairs_within(&fps, k);
        let index = t.elapsed();

        let t = Instant::now();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        for &(a, b, _) in &pairs {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                let (lo, hi) = (ra.min(rb), ra.max(rb));
                parent[hi as usize] = lo;
            }
        }
        let clusters = (0..n as u32).filter(|&i| find(&mut parent, i) != i).count();
        let cluster = t.elapsed();

        let peak_kb = status_kb("VmHWM:");
        let bytes_per_fp = (peak_kb.saturating_sub(base_kb) * 1024) as f64 / n as f64;
        println!(
            "n={n:>11} k={k} index={:>7.2}s cluster={:>6.2}s total={:>7.2}s pairs={:>9} merged={:>9} \
             peak_rss={:>7.0}MiB bytes/fp={:>5.1} (generate {:.2}s)",
            index.as_secs_f64(),
            cluster.as_secs_f64(),
            (index + cluster).as_secs_f64(),
            pairs.len(),
            clusters,
            peak_kb as f64 / 1024.0,
            bytes_per_fp,
            gen.as_secs_f64(),
        );
    }
}
