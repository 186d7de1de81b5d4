//! The peer `py_export_csv.py` of `../shared/bench`, measured in the same run as an export
//! bench. This machine's speed drifts by up to 2x within minutes, and it is slower than the
//! reference machine of `../shared/bench/README.md` even when quiet, so the goals are read as
//! shares of the peer's time: rounds of the peer once and each target three times give each
//! target's median share, and that share of the peer's 2.21 s is the target's time on the
//! reference machine. `SKIP_PEER=1` leaves the rounds out.

use std::path::Path;
use std::time::Instant;

/// `py_export_csv.py`'s median wall time on the reference machine (`../shared/bench/README.md`,
/// workload A).
pub(crate) const PEER_REFERENCE_SECS: f64 = 2.21;

/// Five rounds of the peer (on `jsonl`, from the `shared` folder) once and `export` of each of
/// `targets` three times; prints each round and, per target, the median share of the peer's
/// time, its range over the rounds, and the time it means on the reference machine against
/// `goal` seconds.
pub(crate) fn rounds(shared: &Path, jsonl: &Path, targets: &[&str], goal: f64, mut export: impl FnMut(&str)) {
    if std::env::var_os("SKIP_PEER").is_some() {
        return;
    }
    let peer = shared.join("bench/py_export_csv.py");
    let peer_out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_peer.csv");
    let mut shares: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    for _ in 0..5 {
        let start = Instant::now();
        let status = std::process::Command::new("python3").arg(&peer).arg(jsonl).arg(&peer_out).status();
        let peer_time = match status {
            Ok(s) if s.success() => start.elapsed().as_secs_f64(),
            other => {
                eprintln!("peer py_export_csv.py did not run ({other:?}); no shares");
                return;
            }
        };
        let mut line = format!("round: peer {peer_time:.3} s;");
        for (k, name) in targets.iter().enumerate() {
            let mut times: Vec<f64> = (0..3)
                .map(|_| {
                    let start = Instant::now();
                    export(name);
                    start.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            shares[k].push(times[1] / peer_time);
            line.push_str(&format!(" {name} {:.3} s", times[1]));
        }
        eprintln!("{line}");
    }
    for (name, mut s) in targets.iter().zip(shares) {
        s.sort_by(f64::total_cmp);
        eprintln!(
            "{name}: median share of the peer's time {:.2} % (rounds {:.2} to {:.2} %): {:.3} s on the reference machine (goal < {goal} s)",
            s[2] * 100.0,
            s[0] * 100.0,
            s[4] * 100.0,
            s[2] * PEER_REFERENCE_SECS
        );
    }
}
