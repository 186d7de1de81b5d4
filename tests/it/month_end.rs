//! The main job, run as a user runs it: the `month_end` example binary (built by `cargo test`
//! with the other targets) in demo mode and in bulk mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The example binary next to this test binary (target/<profile>/examples/month_end).
fn month_end() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let bin = profile_dir.join("examples").join(format!("month_end{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --example month_end` (make test does)",
        bin.display()
    );
    bin
}

/// The workplace's shared folder (validators, dataset generator).
fn shared() -> PathBuf {
    let candidates = [
        std::env::var("INVOICE_SHARED").ok().map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("validators/validate").exists())
        .expect("the shared folder with validators/ and bench/ is needed: set INVOICE_SHARED (CI always has it)")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(month_end()).args(args).output().expect("month_end runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn validate(kind: &str, paths: &[PathBuf]) {
    let validate = shared().join("validators/validate");
    let o = Command::new(&validate).arg(kind).args(paths).output().expect("validators/validate runs");
    assert!(o.status.success(), "validate {kind} failed:\n{}", text(&o));
}

fn qpdf_check(path: &Path) {
    let o = Command::new("qpdf").arg("--check").arg(path).output().expect("qpdf is installed (.ci/run installs it)");
    assert!(o.status.success(), "qpdf --check {}:\n{}", path.display(), text(&o));
}

#[test]
fn demo_mode_writes_every_target_and_valid_documents() {
    let out = scratch("month-end-demo");
    let o = run(&["--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for step in [
        "Readiness",
        "Chase list",
        "Generate",
        "cycle clear: true",
        "Pre-flight",
        "Process with the count",
        "adjustment",
        "backups",
    ] {
        assert!(stdout.contains(step), "the summary lacks '{step}':\n{stdout}");
    }
    let exports = out.join("exports");
    for f in [
        "csv.csv",
        "iif.iif",
        "qbxml.xml",
        "qbo-csv.csv",
        "sage50-us.csv",
        "sage50-uk.csv",
        "sage300.csv",
        "intacct.xml",
        "xero.csv",
    ] {
        let len = std::fs::metadata(exports.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")).len();
        assert!(len > 0, "{f} is empty");
    }
    for dir in ["qbo-json", "ubl", "cii"] {
        assert!(
            !files(&exports.join(dir), if dir == "qbo-json" { "json" } else { "xml" }).is_empty(),
            "{dir} is empty"
        );
    }
    validate("ubl", &files(&exports.join("ubl"), "xml"));
    validate("cii", &files(&exports.join("cii"), "xml"));
    validate("qbxml", &[exports.join("qbxml.xml")]);
    let backups = files(&out.join("backups"), "pdf");
    assert!(backups.len() >= 2, "one backup per billing period: {backups:?}");
    for b in &backups {
        qpdf_check(b);
        let name = b.file_name().unwrap().to_string_lossy();
        assert!(
            name.len() == "2026-11-01_2026-11-30.pdf".len() && name.ends_with("_2026-11-30.pdf"),
            "backup name {name}"
        );
    }
    assert!(out.join("invoices.zip").metadata().unwrap().len() > 0);
    assert_eq!(files(&out.join("pdf"), "pdf").len(), 14);
    assert!(out.join("journal.jsonl").exists());
}

fn dataset(n: usize, dir: &Path) -> PathBuf {
    let path = dir.join(format!("invoices-{n}.jsonl"));
    let o = Command::new("python3")
        .arg(shared().join("bench/gen_dataset.py"))
        .arg(n.to_string())
        .arg("1")
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "gen_dataset.py: {}", text(&o));
    std::fs::write(&path, &o.stdout).unwrap();
    path
}

#[test]
fn bulk_mode_reports_every_invoice_and_target() {
    let dir = scratch("month-end-bulk");
    let input = dataset(2000, &dir);
    let out = dir.join("out");
    let formats = "csv,sage300,qbxml,ubl";
    let o =
        run(&["--invoices", input.to_str().unwrap(), "--formats", formats, "--out", out.to_str().unwrap(), "--quiet"]);
    // ubl cannot take every generated invoice (no buyer identities configured): exit 1
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let lines: Vec<Value> =
        std::fs::read_to_string(&input).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let invoices = report["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), lines.len());
    assert_eq!(report["records"], 2000);
    assert_eq!(report["rejected"].as_array().unwrap().len(), 0);
    for (k, (inv, rec)) in invoices.iter().zip(&lines).enumerate() {
        assert_eq!(inv["number"], rec["number"]);
        assert_eq!(inv["line"], k + 1);
        let targets = inv["targets"].as_object().unwrap();
        assert_eq!(targets.keys().cloned().collect::<Vec<_>>(), ["csv", "qbxml", "sage300", "ubl"]);
        assert_eq!(targets["csv"]["outcome"], "exported", "{}", inv);
        assert_eq!(targets["sage300"]["outcome"], "exported", "{}", inv);
        if targets["ubl"]["outcome"] == "failed" {
            assert!(targets["ubl"]["message"].as_str().unwrap().contains("buyer"), "{}", inv);
        }
    }
    let t = &report["targets"]["csv"];
    assert_eq!((t["exported"].as_u64(), t["failed"].as_u64()), (Some(2000), Some(0)));
    // the generic CSV has one row per invoice line
    let csv = std::fs::read_to_string(out.join("exports/csv.csv")).unwrap();
    let rows = csv::ReaderBuilder::new().from_reader(csv.as_bytes()).records().count();
    let line_count: usize = lines.iter().map(|l| l["lines"].as_array().unwrap().len()).sum();
    assert_eq!(rows, line_count);
    validate("qbxml", &[out.join("exports/qbxml.xml")]);
}

#[test]
fn bulk_mode_to_every_csv_like_target_with_the_data_set_config() {
    let dir = scratch("month-end-bulk-csv");
    let input = dataset(2000, &dir);
    let out = dir.join("out");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/month_end/dataset.config.json");
    let formats = ["csv", "iif", "qbo-csv", "sage50-us", "sage50-uk", "sage300", "xero"];
    let o = run(&[
        "--invoices",
        input.to_str().unwrap(),
        "--formats",
        &formats.join(","),
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--timings",
    ]);
    // credit notes do not go to qbo-csv and xero, two sales-tax rates not to sage50-us: exit 1
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for phase in [
        "read and check the invoices",
        "record and issue",
        "render every target",
        "batch, post and record",
        "report.json",
        "peak memory",
    ] {
        assert!(stderr.contains(phase), "--timings lacks '{phase}':\n{stderr}");
    }
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let invoices = report["invoices"].as_array().unwrap();
    for name in formats {
        let t = &report["targets"][name];
        let counts: Vec<u64> = ["exported", "skipped", "failed"].iter().map(|k| t[k].as_u64().unwrap()).collect();
        assert_eq!(counts.iter().sum::<u64>(), 2000, "{name}: {t}");
        assert!(t["warnings"].is_u64(), "{name}: {t}");
        let per_invoice = invoices.iter().filter(|i| i["targets"][name]["outcome"] == "exported").count();
        assert_eq!(per_invoice as u64, counts[0], "{name}");
        let file = out.join(t["output"].as_str().unwrap());
        assert!(std::fs::metadata(&file).unwrap().len() > 0, "{}", file.display());
    }
    for name in ["csv", "sage50-uk", "sage300"] {
        assert_eq!(report["targets"][name]["failed"], 0, "{name}");
    }
    // no temporary file is left behind
    let leftovers: Vec<_> = std::fs::read_dir(out.join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn broken_records_are_named_with_and_without_keep_going() {
    let dir = scratch("month-end-broken");
    let good = |n: &str| {
        format!(
            r#"{{"number":"{n}","customer":{{"id":"C1","name":"Zoë"}},"currency":"EUR","issue_date":"2026-11-30","lines":[{{"description":"x","quantity":"1","unit_price":"10.00","tax_rate":"0.19"}}]}}"#
        )
    };
    let records = [
        good("OK-1"),
        r#"{"number":"BAD-1","customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[{"description":"x","quantity":"1,5","unit_price":"1"}]}"#.to_string(),
        r#"{"number":"BAD-2","customer":{"id":"C1","name":"Z"},"currency":"EURO","lines":[]}"#.to_string(),
        r#"{"customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[]}"#.to_string(),
        good("OK-1"),
        r#"{"number":"BAD-5","customer":{"id":"C1","name":"Z"},"currency":"EUR","issue_date":"2026-13-01","lines":[]}"#.to_string(),
        "this is not json".to_string(),
        good("OK-2"),
    ];
    let input = dir.join("broken.jsonl");
    std::fs::write(&input, records.join("\n") + "\n").unwrap();
    let expected = [
        "line 2 (BAD-1): lines[0].quantity: '1,5' is not a decimal number",
        "line 3 (BAD-2): currency: unknown currency code 'EURO'",
        "line 4: number: is missing",
        "line 5 (OK-1): number: the number is used on line 1 already",
        "line 6 (BAD-5): issue_date: '2026-13-01' is not a date (YYYY-MM-DD)",
        "line 7: not a JSON object",
    ];
    // without --keep-going: exit 2, every error named, nothing written
    let out = dir.join("strict");
    let o =
        run(&["--invoices", input.to_str().unwrap(), "--formats", "csv", "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for e in expected {
        assert!(stderr.contains(e), "stderr lacks '{e}':\n{stderr}");
    }
    assert!(!out.exists(), "nothing may be written without --keep-going");
    // with --keep-going: the good ones are exported, the bad ones reported, exit 1
    let out = dir.join("lenient");
    let o = run(&[
        "--invoices",
        input.to_str().unwrap(),
        "--formats",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--keep-going",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let rejected: Vec<String> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "line {}{}: {}: {}",
                r["line"],
                r["number"].as_str().map(|n| format!(" ({n})")).unwrap_or_default(),
                r["field"].as_str().unwrap(),
                r["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(rejected.len(), expected.len(), "{rejected:?}");
    for (got, want) in rejected.iter().zip(expected) {
        let want = want.replace("line 7: not a JSON object", "line 7: : not a JSON object");
        assert!(got.starts_with(&want), "{got} / {want}");
    }
    let numbers: Vec<&str> =
        report["invoices"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["OK-1", "OK-2"]);
    // bad usage
    assert_eq!(run(&["--formats", "nope"]).status.code(), Some(2));
    assert_eq!(run(&["--invoices", dir.join("missing.jsonl").to_str().unwrap()]).status.code(), Some(2));
}
