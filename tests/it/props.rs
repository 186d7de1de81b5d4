//! Property tests of the core over random command sequences (see `invoice_core::testkit`):
//!
//! - the journal, its JSON Lines form and a snapshot each rebuild a book equal to the original;
//! - undoing the last process batch right after it restores its invoices exactly;
//! - after every step: a refused command changed nothing, no invoice is in two open export
//!   batches (and `invoice.batch` agrees), no invoice went to one target twice without force,
//!   the accounting state agrees with batch membership, exported invoices no longer change,
//!   the payment status agrees with the payments, and every total is the rounded line nets
//!   plus the tax groups, recomputed here independently;
//! - no sequence panics (running them proves it).
//!
//! Runs are reproducible: a fixed seed and 64 cases per property unless `PROPTEST_RNG_SEED` or
//! `PROPTEST_CASES` say otherwise; the book runs on a `ManualClock`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Duration;
use invoice_core::testkit::{self, Actors, Op, Step, Who};
use invoice_core::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};

/// 64 cases from a fixed seed, unless the environment asks for others.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x1_2026_1130);
    }
    // The seed is fixed, so a failure reproduces without a regressions file.
    config.failure_persistence = None;
    config
}

/// What a run went through, to show the properties are not checked vacuously.
#[derive(Debug, Default)]
struct Stats {
    /// Successful commands by their command name.
    applied: BTreeMap<&'static str, usize>,
    /// Refused commands by command name and error code.
    refused: BTreeMap<(&'static str, &'static str), usize>,
    /// Undos compared against the state right before their process batch.
    undo_compared: usize,
    /// Ledger entries that were forced re-exports.
    forced_exports: usize,
    /// Exponents of the currencies of issued invoices.
    exponents: HashSet<u32>,
}

fn name(command: &Command) -> &'static str {
    match command {
        Command::CreateInvoices { .. } => "create",
        Command::Edit { .. } => "edit",
        Command::Issue { .. } => "issue",
        Command::Void { .. } => "void",
        Command::MarkReadyToSend { .. } => "ready_to_send",
        Command::MarkSent { .. } => "sent",
        Command::RecordPayment { .. } => "pay",
        Command::CreateCreditNote { .. } => "credit_note",
        Command::CreateAdjustment { .. } => "adjustment",
        Command::CreateExportBatch { .. } => "batch",
        Command::DiscardBatch { .. } => "discard",
        Command::Post { .. } => "post",
        Command::Unpost { .. } => "unpost",
        Command::RecordExportResults { .. } => "results",
        Command::MarkExported { .. } => "mark_exported",
        Command::Withdraw { .. } => "withdraw",
        Command::Process { .. } => "process",
        Command::UndoProcess { .. } => "undo",
        Command::Unprocess { .. } => "unprocess",
        Command::RecordReference { .. } => "reference",
        _ => "other",
    }
}

/// Run `steps` on a fresh book, checking the per-step properties after every step.
fn drive(steps: &[Step]) -> Result<(Book, Stats), TestCaseError> {
    let (mut book, clock) = testkit::book();
    let actors = Actors::default();
    let mut stats = Stats::default();
    // The process batch the previous step created, with every invoice as it was right before.
    let mut just_processed: Option<(BatchId, Vec<Invoice>)> = None;
    for (k, step) in steps.iter().enumerate() {
        clock.advance(Duration::minutes(47));
        let before = book.clone();
        let command = testkit::command(&book, &step.op);
        let result = testkit::run_op(&mut book, &actors, step);
        let processed_before = just_processed.take();
        match result {
            Err(e) => {
                *stats.refused.entry((name(&command), e.code())).or_default() += 1;
                prop_assert!(book == before, "step {k}: refused {:?} still changed the book", command);
            }
            Ok(added) => {
                *stats.applied.entry(name(&command)).or_default() += 1;
                if !added.iter().any(|env| env.event.may_change_invoice_content()) {
                    // what staged exports rely on: such events leave what every invoice says alone
                    for old in before.invoices() {
                        let now = book.invoice(old.id).map(Invoice::content_hash).ok();
                        prop_assert!(
                            now == Some(old.content_hash()),
                            "step {k}: {:?} changed the content of {}",
                            command,
                            old.label()
                        );
                    }
                }
                for env in &added {
                    match &env.event {
                        Event::ProcessBatchCreated { batch, .. } => {
                            just_processed = Some((*batch, before.invoices().to_vec()));
                        }
                        Event::ProcessBatchUndone { batch } => {
                            check_undo(&book, *batch, processed_before.as_ref(), &mut stats)?;
                        }
                        _ => {}
                    }
                }
            }
        }
        check_invariants(&book).map_err(|e| TestCaseError::fail(format!("after step {k} ({step:?}): {e}")))?;
    }
    stats.forced_exports = book.ledger().entries().iter().filter(|e| e.forced.is_some()).count();
    stats.exponents = book
        .invoices()
        .iter()
        .filter(|i| i.status.document == Document::Issued)
        .map(|i| i.currency.exponent())
        .collect();
    Ok((book, stats))
}

/// A successful undo puts each invoice of the batch back to what the batch recorded; when it
/// comes right after the process command, every invoice equals its state before that command.
fn check_undo(
    book: &Book,
    batch: BatchId,
    processed: Option<&(BatchId, Vec<Invoice>)>,
    stats: &mut Stats,
) -> Result<(), TestCaseError> {
    let Ok(Batch::Process(p)) = book.batch(batch) else {
        return Err(TestCaseError::fail(format!("{batch} was undone but is not a process batch")));
    };
    prop_assert!(p.undone.is_some());
    for e in &p.invoices {
        let inv = book.invoice(e.invoice).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(inv.status.accounting, e.before);
        prop_assert_eq!(inv.revision, e.revision_before);
    }
    if let Some((processed_batch, snapshot)) = processed {
        if *processed_batch == batch {
            for e in &p.invoices {
                let now = book.invoice(e.invoice).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let then = snapshot.iter().find(|i| i.id == e.invoice);
                prop_assert_eq!(Some(now), then, "undo of {} did not restore {}", batch, e.invoice);
            }
            prop_assert_eq!(book.invoices(), &snapshot[..]);
            stats.undo_compared += 1;
        }
    }
    Ok(())
}

/// The invariants that hold after every step.
fn check_invariants(book: &Book) -> Result<(), String> {
    for inv in book.invoices() {
        // the book's kept content hash is always the invoice's own
        if book.content_hash(inv.id).ok() != Some(inv.content_hash()) {
            return Err(format!("the kept content hash of {} is stale", inv.label()));
        }
        // and so are its kept totals
        if book.totals(inv.id).ok() != inv.totals().ok().as_ref() {
            return Err(format!("the kept totals of {} are stale", inv.label()));
        }
    }
    // An invoice with an open result is in exactly one open (or posted) export batch, and its
    // `batch` field names that batch; its accounting state follows the batch's state.
    let mut holder: HashMap<InvoiceId, BatchId> = HashMap::new();
    for b in book.batches() {
        let Batch::Export(b) = b else { continue };
        let open: Vec<InvoiceId> = b.results.iter().filter(|(_, r)| r.is_open()).map(|(i, _)| *i).collect();
        match b.state {
            BatchState::Closed if !open.is_empty() => {
                return Err(format!("closed batch {} has open invoices {open:?}", b.id))
            }
            BatchState::Open | BatchState::Posted if open.is_empty() => {
                return Err(format!("batch {} is {:?} without an open invoice", b.id, b.state))
            }
            BatchState::Closed => continue,
            BatchState::Open | BatchState::Posted => {}
        }
        let mut selection: Vec<InvoiceId> = b.invoices.clone();
        selection.sort();
        if selection != b.results.keys().copied().collect::<Vec<_>>() {
            return Err(format!("batch {} has results for other invoices than its selection", b.id));
        }
        for id in open {
            if let Some(other) = holder.insert(id, b.id) {
                return Err(format!("invoice {id} is open in batches {other} and {}", b.id));
            }
            let inv = book.invoice(id).map_err(|e| e.to_string())?;
            if inv.batch != Some(b.id) {
                return Err(format!("invoice {id} is open in batch {} but its batch is {:?}", b.id, inv.batch));
            }
            let expected = if b.state == BatchState::Open { Accounting::Batched } else { Accounting::Posted };
            if inv.status.accounting != expected && !inv.status.accounting.is_exported() {
                return Err(format!("invoice {id} in {:?} batch {} is {:?}", b.state, b.id, inv.status.accounting));
            }
        }
    }
    let mut numbers = HashSet::new();
    for inv in book.invoices() {
        match inv.batch {
            Some(b) if holder.get(&inv.id) != Some(&b) => {
                return Err(format!("invoice {} says it is in {b}, which holds no open result for it", inv.id))
            }
            Some(_) => {}
            None if matches!(inv.status.accounting, Accounting::Batched | Accounting::Posted) => {
                return Err(format!("invoice {} is {:?} but in no batch", inv.id, inv.status.accounting))
            }
            None => {}
        }
        if inv.status.accounting != Accounting::Pending && inv.status.document != Document::Issued {
            return Err(format!(
                "invoice {} is {:?} on the accounting axis but {:?}",
                inv.id, inv.status.accounting, inv.status.document
            ));
        }
        // Exported (or processed) only after a batch said so.
        if inv.status.accounting.is_exported() {
            let done = book.batches().iter().any(|b| {
                matches!(b, Batch::Export(e) if matches!(e.results.get(&inv.id), Some(ExportResult::Exported { .. } | ExportResult::Skipped { .. })))
            });
            if !done {
                return Err(format!("invoice {} is {:?} without an exported result", inv.id, inv.status.accounting));
            }
        }
        // Issued invoices have a number; no number is used twice (a voided draft has none).
        if inv.status.document == Document::Issued && inv.number.is_none() {
            return Err(format!("invoice {} is issued without a number", inv.id));
        }
        if let Some(number) = &inv.number {
            if !numbers.insert(number.clone()) {
                return Err(format!("number {number} is used twice"));
            }
        }
        // The payment status agrees with the payments and the total.
        let paid = inv.paid().map_err(|e| e.to_string())?;
        let gross = inv.totals().map_err(|e| e.to_string())?.gross;
        let consistent = match inv.status.payment {
            Payment::Unpaid => inv.payments.is_empty(),
            Payment::PartiallyPaid => paid > Decimal::ZERO && paid < gross,
            Payment::Paid => paid == gross,
        };
        if !consistent {
            return Err(format!("invoice {} is {:?} with {paid} paid of {gross}", inv.id, inv.status.payment));
        }
        check_totals(inv)?;
    }
    // Every export of an invoice to a target after its first one was forced, and every ledger
    // entry is backed by an exported result of an export batch to that target.
    let mut seen: HashSet<(InvoiceId, &Target)> = HashSet::new();
    for e in book.ledger().entries() {
        if !seen.insert((e.invoice, &e.target)) && e.forced.is_none() {
            return Err(format!(
                "invoice {} was exported to {} again without force (batch {})",
                e.invoice, e.target, e.batch
            ));
        }
        let backed = matches!(
            book.batch(e.batch),
            Ok(Batch::Export(b)) if b.target == *e.target && matches!(b.results.get(&e.invoice), Some(ExportResult::Exported { .. }))
        );
        if !backed {
            return Err(format!("ledger entry for {} in {} has no exported result behind it", e.invoice, e.batch));
        }
        let inv = book.invoice(e.invoice).map_err(|e| e.to_string())?;
        if !inv.status.accounting.is_exported() {
            return Err(format!("invoice {} is in the ledger but {:?}", e.invoice, inv.status.accounting));
        }
        // Exported invoices are immutable: what the ledger says was exported is what they say.
        if inv.content_hash() != e.content_hash {
            return Err(format!("invoice {} changed after it was exported in {}", e.invoice, e.batch));
        }
    }
    Ok(())
}

/// Recompute the totals of `inv` from its lines, without the core's rounding helpers: each
/// line net rounded with the invoice's half-way rule at the currency's exponent, tax per
/// (category, rate) group rounded per group or per line, gross = net + tax.
fn check_totals(inv: &Invoice) -> Result<(), String> {
    let dp = inv.currency.exponent();
    let strategy = match inv.rounding.mode {
        Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
        Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
    };
    let round = |d: Decimal| d.round_dp_with_strategy(dp, strategy);
    let mut nets = Vec::new();
    let mut groups: BTreeMap<(TaxCategory, Decimal), (Decimal, Decimal)> = BTreeMap::new();
    for line in &inv.lines {
        let net = round(line.quantity * line.unit_price);
        let category = match line.tax_category {
            Some(c) => c,
            None if line.tax_rate.is_zero() => TaxCategory::ZeroRated,
            None => TaxCategory::Standard,
        };
        let group = groups.entry((category, line.tax_rate.normalize())).or_default();
        group.0 += net;
        group.1 += round(net * line.tax_rate);
        nets.push(net);
    }
    let expected_groups: Vec<(TaxCategory, Decimal, Decimal, Decimal)> = groups
        .into_iter()
        .map(|((category, rate), (taxable, line_tax))| {
            let tax = match inv.rounding.tax {
                TaxRounding::PerGroup => round(taxable * rate),
                TaxRounding::PerLine => line_tax,
            };
            (category, rate, taxable, tax)
        })
        .collect();
    let net: Decimal = nets.iter().sum();
    let tax: Decimal = expected_groups.iter().map(|g| g.3).sum();

    let t = inv.totals().map_err(|e| format!("invoice {}: totals failed: {e}", inv.id))?;
    let groups_of =
        |t: &Totals| t.tax_groups.iter().map(|g| (g.category, g.rate, g.taxable, g.tax)).collect::<Vec<_>>();
    let wrong = |what: &str| format!("invoice {} ({}, {:?}): {what}: {t:?}", inv.id, inv.currency, inv.rounding);
    if t.currency != inv.currency {
        return Err(wrong("currency"));
    }
    if t.line_nets != nets {
        return Err(wrong(&format!("line nets, expected {nets:?}")));
    }
    if groups_of(&t) != expected_groups {
        return Err(wrong(&format!("tax groups, expected {expected_groups:?}")));
    }
    if (t.net, t.tax, t.gross) != (net, tax, net + tax) {
        return Err(wrong(&format!("net/tax/gross, expected {net}/{tax}/{}", net + tax)));
    }
    let at_minor_unit = t.line_nets.iter().chain([&t.net, &t.tax, &t.gross]).all(|d| d.scale() == dp)
        && t.tax_groups.iter().all(|g| g.tax.scale() == dp);
    if !at_minor_unit {
        return Err(wrong(&format!("amounts not at {dp} decimals")));
    }
    Ok(())
}

/// Insert an undo of the last process batch right after each process step flagged in `undo`.
fn with_undos(steps: Vec<Step>, undo: &[bool]) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps.len() * 2);
    for (k, step) in steps.into_iter().enumerate() {
        let process = matches!(step.op, Op::Process { .. });
        out.push(step);
        if process && undo.get(k).copied().unwrap_or(true) {
            out.push(Step { who: Who::Admin, op: Op::UndoLast });
        }
    }
    out
}

proptest! {
    #![proptest_config(config(64))]

    /// No sequence panics, a refused command changes nothing, and the invariants hold after
    /// every step.
    #[test]
    fn invariants_hold_after_every_step(steps in testkit::sequence()) {
        drive(&steps)?;
    }

    /// The journal, its JSON Lines round trip and a JSON snapshot each rebuild an equal book.
    #[test]
    fn journal_json_and_snapshot_rebuild_an_equal_book(steps in testkit::sequence()) {
        let (book, _) = drive(&steps)?;

        let replayed = Book::replay(book.journal().to_vec()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&replayed, &book);

        let mut jsonl = Vec::new();
        book.write_journal(&mut jsonl).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = Book::read_journal(&jsonl[..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&read[..], book.journal());
        let from_json = Book::replay(read).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&from_json, &book);

        let snapshot = serde_json::to_string(&book).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let restored: Book = serde_json::from_str(&snapshot).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&restored, &book);

        // The rebuilt books find every number again (their number index is not part of `==`).
        for inv in book.invoices() {
            if let Some(number) = &inv.number {
                for rebuilt in [&replayed, &from_json, &restored] {
                    prop_assert_eq!(rebuilt.invoice_by_number(number).map(|i| i.id), Some(inv.id));
                }
            }
        }
    }

    /// A book rebuilt from its JSON journal or a JSON snapshot gives every invoice the content
    /// hash it had (the hash the export ledger records), and writes the journal back to the
    /// same bytes.
    ///
    /// FAILS because of a core bug (reported, not fixed here): a line decimal that is negative
    /// zero is journalled as "-0" but read back as 0 (rust_decimal drops the sign of zero when
    /// parsing), so the reloaded invoice is `==` but its `content_hash()` is different, and no
    /// longer matches the ledger entry of its export. Minimal failing case: create one draft
    /// whose only line is `Line::new("Loyalty discount", dec!(10), -Decimal::ZERO)
    /// .kind(LineKind::Discount)`, then write, read and replay the journal. (Issue, batch, post
    /// and export it first, and the replayed ledger's hash differs from the invoice's.) A fix
    /// would normalise the sign of zero of line decimals when invoices are created and edited.
    #[test]
    fn rebuilt_books_keep_content_hashes_and_journal_bytes(steps in testkit::sequence()) {
        let (book, _) = drive(&steps)?;
        let mut jsonl = Vec::new();
        book.write_journal(&mut jsonl).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = Book::read_journal(&jsonl[..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let from_json = Book::replay(read).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let snapshot = serde_json::to_string(&book).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let restored: Book = serde_json::from_str(&snapshot).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for inv in book.invoices() {
            for rebuilt in [&from_json, &restored] {
                let hash = rebuilt.invoice(inv.id).map(Invoice::content_hash).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(hash, inv.content_hash(), "content hash of {} changed by a reload", inv.id);
            }
        }
        let mut again = Vec::new();
        from_json.write_journal(&mut again).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(again == jsonl, "the journal does not write back to the same bytes");
    }

    /// Undoing a process batch right after it restores each of its invoices (and every other
    /// invoice) exactly as it was before the process command; the process batch stays, undone.
    #[test]
    fn undo_right_after_process_restores_the_exact_prior_state(
        steps in testkit::sequence(),
        undo in prop::collection::vec(prop::bool::weighted(0.7), 60),
    ) {
        drive(&with_undos(steps, &undo))?;
    }

    /// Every total is its rounded line nets plus its tax groups, recomputed independently, for
    /// currencies of exponent 0, 2 and 3, either rounding rule and tax per group or per line.
    #[test]
    fn totals_are_rounded_line_nets_plus_tax_groups(invoice in testkit::invoice()) {
        check_totals(&invoice).map_err(TestCaseError::fail)?;
    }
}

/// The totals property meets every exponent, rounding rule and tax rounding (a hand-made
/// check that the strategy covers them, not a property).
#[test]
fn totals_property_covers_exponents_and_rounding_policies() {
    let mut runner = TestRunner::deterministic();
    let mut seen = HashSet::new();
    for _ in 0..256 {
        let inv = testkit::invoice().new_tree(&mut runner).unwrap().current();
        check_totals(&inv).unwrap();
        seen.insert((inv.currency.exponent(), inv.rounding.mode, inv.rounding.tax));
    }
    assert_eq!(seen.len(), 3 * 2 * 2, "covered: {seen:?}");
}

/// The command sequences reach every part of the life cycle, so the properties above are not
/// checked vacuously: process then undo, forced re-exports, every exponent, refusals.
#[test]
fn command_sequences_reach_the_whole_life_cycle() {
    let mut runner = TestRunner::deterministic();
    let mut total = Stats::default();
    for _ in 0..64 {
        let steps = testkit::sequence().new_tree(&mut runner).unwrap().current();
        let undo = prop::collection::vec(any::<bool>(), 60).new_tree(&mut runner).unwrap().current();
        let (_, stats) = drive(&with_undos(steps, &undo)).unwrap();
        for (k, v) in stats.applied {
            *total.applied.entry(k).or_default() += v;
        }
        for (k, v) in stats.refused {
            *total.refused.entry(k).or_default() += v;
        }
        total.undo_compared += stats.undo_compared;
        total.forced_exports += stats.forced_exports;
        total.exponents.extend(stats.exponents);
    }
    for command in [
        "create",
        "edit",
        "issue",
        "void",
        "sent",
        "pay",
        "credit_note",
        "batch",
        "post",
        "unpost",
        "discard",
        "results",
        "mark_exported",
        "withdraw",
        "process",
        "undo",
        "unprocess",
        "reference",
    ] {
        assert!(total.applied.get(command).copied().unwrap_or(0) > 0, "no successful {command}: {total:?}");
    }
    assert!(total.undo_compared > 0, "{total:?}");
    assert!(total.forced_exports > 0, "{total:?}");
    assert!(total.refused.len() > 10, "{total:?}");
    assert!(total.refused.keys().any(|(_, code)| *code == "forbidden"), "no actor was refused: {total:?}");
    assert_eq!(total.exponents.len(), 3, "{total:?}");
}
