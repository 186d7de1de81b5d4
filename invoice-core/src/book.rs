//! The [`Book`]: the aggregate that holds invoices, numbering series, batches, the export
//! ledger and the journal, and changes only through commands that become events.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{BufRead, Write};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::batch::{
    Batch, BatchState, ExportBatch, ExportResult, InOrder, Ledger, LedgerEntry, Outcome, ProcessBatch,
    ProcessedInvoice, Target,
};
use crate::clock::{Clock, SystemClock};
use crate::command::{Change, Command, Envelope, Event, Issued, RecordedResult};
use crate::cycle::CycleState;
use crate::error::{Error, Result, UndoRefusal};
use crate::invoice::ContentHash;
use crate::invoice::{BatchId, Invoice, InvoiceId, Kind, Line, PaymentRecord, Totals};
use crate::money::Money;
use crate::policy::{Actor, Policy, Role};
use crate::status::{transition, Accounting, Delivery, Document, Payment as PaymentStatus, Status};

/// A numbering series: numbers are `prefix` + the counter padded to `width` digits, handed
/// out without gaps and never reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// Text before the counter, e.g. `INV-2026-`.
    pub prefix: String,
    /// Minimum digits of the counter (zero-padded).
    pub width: usize,
    /// The next counter value.
    pub next: u64,
}

impl Series {
    /// A series starting at 1.
    pub fn new(prefix: impl Into<String>, width: usize) -> Series {
        Series { prefix: prefix.into(), width, next: 1 }
    }

    /// The number the series hands out next.
    pub fn peek(&self) -> String {
        format!("{}{:0width$}", self.prefix, self.next, width = self.width)
    }
}

/// How a book is set up: its policy and numbering series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Who may do what.
    pub policy: Policy,
    /// Numbering series by name.
    pub series: BTreeMap<String, Series>,
    /// The series each kind draws from when the invoice names none: keys `invoice`,
    /// `credit_note`, `adjustment`.
    pub series_by_kind: BTreeMap<String, String>,
    /// Whether locked time (and submitted expenses) must also be approved before billing.
    #[serde(default)]
    pub approval_flows: bool,
    /// Refuse to issue a credit note that would take the credits of an invoice in the book
    /// above that invoice's total (default on). Turn it off to record documents that were
    /// issued elsewhere as they are.
    #[serde(default = "on")]
    pub limit_credit_notes: bool,
}

fn on() -> bool {
    true
}

impl Default for Settings {
    /// The default policy; series `INV-000001`, `CN-000001` and `ADJ-000001`.
    fn default() -> Settings {
        let mut series = BTreeMap::new();
        let mut by_kind = BTreeMap::new();
        for (kind, name, prefix) in [
            ("invoice", "invoices", "INV-"),
            ("credit_note", "credit_notes", "CN-"),
            ("adjustment", "adjustments", "ADJ-"),
        ] {
            series.insert(name.to_string(), Series::new(prefix, 6));
            by_kind.insert(kind.to_string(), name.to_string());
        }
        Settings {
            policy: Policy::default(),
            series,
            series_by_kind: by_kind,
            approval_flows: false,
            limit_credit_notes: true,
        }
    }
}

/// The state of a book, everything that is saved in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    /// Counters of the series (start from the settings, advance at each issue).
    pub(crate) series: BTreeMap<String, Series>,
    /// Invoice `InvoiceId(n)` is at index `n - 1`.
    pub(crate) invoices: Vec<Invoice>,
    /// Batch `BatchId(n)` is at index `n - 1`.
    pub(crate) batches: Vec<Batch>,
    pub(crate) ledger: Ledger,
    /// Projects, people, time, expenses, milestones and what was generated from them.
    #[serde(default)]
    pub(crate) cycle: CycleState,
    pub(crate) journal: Vec<Envelope>,
}

/// The invoice book.
///
/// ```
/// use invoice_core::*;
/// use rust_decimal_macros::dec;
/// use chrono::{TimeZone, Utc};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap());
/// let mut book = Book::with_clock(Settings::default(), clock);
/// let ana = Actor::new("ana", Role::Administrator);
///
/// let draft = Invoice::builder(Customer::new("C1", "Müller GmbH"), Currency::EUR)
///     .line(Line::new("Consulting", dec!(10), dec!(120.00)).tax_rate(dec!(0.19)))
///     .build();
/// let id = book.create_invoice(&ana, draft)?;
/// assert_eq!(book.issue(&ana, id)?, "INV-000001");
///
/// let batch = book.create_export_batch(&ana, vec![id], Target::new("xero", "Demo Ltd"), None)?;
/// book.apply(&ana, Command::Post { batch })?;
/// book.apply(&ana, Command::RecordExportResults { batch, results: vec![(id, Outcome::Exported)] })?;
/// let processed = book.process(&ana, vec![id], 1)?;
/// assert_eq!(book.invoice(id)?.status.accounting, Accounting::Processed);
///
/// book.apply(&ana, Command::UndoProcess { batch: processed })?;
/// assert_eq!(book.invoice(id)?.status.accounting, Accounting::Exported);
///
/// // the journal rebuilds the same book
/// let rebuilt = Book::replay(book.journal().to_vec())?;
/// assert_eq!(rebuilt, book);
/// # Ok::<(), invoice_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Book {
    pub(crate) state: State,
    pub(crate) clock: Arc<dyn Clock>,
    /// Every number in use (issued, void, or brought along by a draft) -> invoice.
    pub(crate) numbers: HashMap<String, InvoiceId>,
    /// Content hashes by invoice index, computed on first use and forgotten when an event
    /// changes what the invoice says (see [`Event::may_change_invoice_content`]).
    pub(crate) hashes: Vec<OnceLock<ContentHash>>,
    /// Totals by invoice index (`None`: they cannot be made), kept like the hashes.
    pub(crate) totals: Vec<OnceLock<Option<Totals>>>,
}

impl PartialEq for Book {
    fn eq(&self, other: &Book) -> bool {
        self.state == other.state
    }
}

impl Eq for Book {}

impl fmt::Debug for Book {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Book")
            .field("invoices", &self.state.invoices.len())
            .field("batches", &self.state.batches.len())
            .field("journal", &self.state.journal.len())
            .finish()
    }
}

impl Serialize for Book {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.state.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Book {
    /// Loads a snapshot; the book gets the system clock (see [`Book::set_clock`]).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Book, D::Error> {
        let state = State::deserialize(d)?;
        Ok(Book::from_state(state, Arc::new(SystemClock)))
    }
}

/// The actor of the book's own events (opening).
fn system_actor() -> Actor {
    Actor::new("system", Role::Administrator)
}

fn index(id: u64) -> Option<usize> {
    usize::try_from(id).ok()?.checked_sub(1)
}

impl Book {
    /// A new, empty book on the system clock.
    pub fn new(settings: Settings) -> Book {
        Book::with_clock(settings, SystemClock)
    }

    /// A new, empty book with an injected clock.
    pub fn with_clock(settings: Settings, clock: impl Clock + 'static) -> Book {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let mut book = Book::from_state(
            State {
                series: settings.series.clone(),
                settings: settings.clone(),
                invoices: Vec::new(),
                batches: Vec::new(),
                ledger: Ledger::default(),
                cycle: CycleState { approval_flows: settings.approval_flows, ..CycleState::default() },
                journal: Vec::new(),
            },
            clock,
        );
        let opened = Envelope {
            seq: 1,
            at: book.clock.now(),
            actor: system_actor(),
            event: Event::BookOpened { settings: Box::new(settings) },
        };
        book.state.journal.push(opened);
        book
    }

    fn from_state(mut state: State, clock: Arc<dyn Clock>) -> Book {
        state.cycle.reindex();
        let numbers = state.invoices.iter().filter_map(|i| Some((i.number.clone()?, i.id))).collect();
        let hashes = state.invoices.iter().map(|_| OnceLock::new()).collect();
        let totals = state.invoices.iter().map(|_| OnceLock::new()).collect();
        Book { state, clock, numbers, hashes, totals }
    }

    /// Replace the clock (after loading a snapshot, for instance).
    pub fn set_clock(&mut self, clock: impl Clock + 'static) {
        self.clock = Arc::new(clock);
    }

    /// Rebuild a book from its journal, on the system clock.
    pub fn replay(journal: impl IntoIterator<Item = Envelope>) -> Result<Book> {
        let mut journal = journal.into_iter();
        let first = journal.next().ok_or(Error::Replay { seq: 0, reason: "the journal is empty".into() })?;
        let Event::BookOpened { settings } = &first.event else {
            return Err(Error::Replay { seq: first.seq, reason: "the first event must be book_opened".into() });
        };
        let mut book = Book::from_state(
            State {
                series: settings.series.clone(),
                settings: (**settings).clone(),
                invoices: Vec::new(),
                batches: Vec::new(),
                ledger: Ledger::default(),
                cycle: CycleState { approval_flows: settings.approval_flows, ..CycleState::default() },
                journal: Vec::new(),
            },
            Arc::new(SystemClock),
        );
        if first.seq != 1 {
            return Err(Error::Replay { seq: first.seq, reason: "the journal must start at sequence 1".into() });
        }
        book.state.journal.push(first);
        for env in journal {
            let expected = book.state.journal.len() as u64 + 1;
            if env.seq != expected {
                return Err(Error::Replay { seq: env.seq, reason: format!("expected sequence {expected}") });
            }
            if matches!(env.event, Event::BookOpened { .. }) {
                return Err(Error::Replay { seq: env.seq, reason: "book_opened may only come first".into() });
            }
            book.mutate(&env).map_err(|e| Error::Replay { seq: env.seq, reason: e.to_string() })?;
            book.state.journal.push(env);
        }
        book.hashes.resize_with(book.state.invoices.len(), OnceLock::new);
        book.totals.resize_with(book.state.invoices.len(), OnceLock::new);
        Ok(book)
    }

    /// Write the journal as JSON Lines (one event per line).
    pub fn write_journal(&self, mut w: impl Write) -> Result<()> {
        for env in &self.state.journal {
            serde_json::to_writer(&mut w, env).map_err(|e| Error::Io(e.into()))?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Read a journal written by [`Book::write_journal`]; blank lines are ignored.
    pub fn read_journal(r: impl BufRead) -> Result<Vec<Envelope>> {
        let mut out = Vec::new();
        for (i, line) in r.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            out.push(serde_json::from_str(&line).map_err(|source| Error::Json { line: i + 1, source })?);
        }
        Ok(out)
    }

    /// The settings the book was opened with.
    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    /// Every invoice, in id order.
    pub fn invoices(&self) -> &[Invoice] {
        &self.state.invoices
    }

    /// One invoice.
    pub fn invoice(&self, id: InvoiceId) -> Result<&Invoice> {
        index(id.0).and_then(|i| self.state.invoices.get(i)).ok_or_else(|| Error::UnknownInvoice { id: id.to_string() })
    }

    /// The invoice with this number.
    pub fn invoice_by_number(&self, number: &str) -> Option<&Invoice> {
        self.numbers.get(number).and_then(|id| self.invoice(*id).ok())
    }

    /// Every batch, in id order.
    pub fn batches(&self) -> &[Batch] {
        &self.state.batches
    }

    /// One batch.
    pub fn batch(&self, id: BatchId) -> Result<&Batch> {
        index(id.0).and_then(|i| self.state.batches.get(i)).ok_or(Error::UnknownBatch { id })
    }

    /// One export batch.
    pub fn export_batch(&self, id: BatchId) -> Result<&ExportBatch> {
        match self.batch(id)? {
            Batch::Export(b) => Ok(b),
            Batch::Process(_) => Err(Error::BatchState { batch: id, state: "a process batch", action: "export it" }),
        }
    }

    /// The numbering series with their current counters.
    pub fn series(&self) -> &BTreeMap<String, Series> {
        &self.state.series
    }

    /// The export ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.state.ledger
    }

    /// The journal, oldest event first.
    pub fn journal(&self) -> &[Envelope] {
        &self.state.journal
    }

    /// The invoices of a posted batch that an exporter should send now: those not yet
    /// attempted and those that failed (a re-run retries only these), without the invoices
    /// that have no lines (they are recorded as skipped).
    pub fn export_work(&self, batch: BatchId) -> Result<Vec<&Invoice>> {
        let b = self.export_batch(batch)?;
        let mut out = Vec::with_capacity(b.invoices.len());
        for (id, result) in b.selection_results() {
            if result.is_some_and(ExportResult::is_open) {
                let inv = self.invoice(id)?;
                if inv.export_skip_reason().is_none() {
                    out.push(inv);
                }
            }
        }
        Ok(out)
    }

    /// The content hash of an invoice of the book ([`Invoice::content_hash`]), computed once
    /// and kept until an event changes what the invoice says. The export ledger records it
    /// for every export; computing it ahead (on any thread, the book is `Sync`) makes
    /// recording export results cheaper.
    pub fn content_hash(&self, id: InvoiceId) -> Result<ContentHash> {
        Ok(self.content_hash_of(self.invoice(id)?))
    }

    fn content_hash_of(&self, inv: &Invoice) -> ContentHash {
        match index(inv.id.0).and_then(|i| self.hashes.get(i)) {
            Some(cell) => *cell.get_or_init(|| inv.content_hash()),
            None => inv.content_hash(),
        }
    }

    fn forget_content_hash(&mut self, id: InvoiceId) {
        if let Some(cell) = index(id.0).and_then(|i| self.hashes.get_mut(i)) {
            cell.take();
        }
        if let Some(cell) = index(id.0).and_then(|i| self.totals.get_mut(i)) {
            cell.take();
        }
    }

    /// The totals of an invoice of the book ([`Invoice::totals`]), made once and kept until
    /// an event changes what the invoice says, like [`Book::content_hash`], or until an export
    /// result is recorded for it (so that a long-lived book does not keep every invoice's
    /// totals). Staging the exports of several targets before recording them makes the
    /// totals once instead of once per target.
    ///
    /// ```
    /// use invoice_core::*;
    /// use rust_decimal_macros::dec;
    /// let mut book = Book::new(Settings::default());
    /// let admin = Actor::new("ana", Role::Administrator);
    /// let draft = Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR)
    ///     .line(Line::new("Work", dec!(2), dec!(10.00)).tax_rate(dec!(0.2)))
    ///     .build();
    /// let id = book.create_invoice(&admin, draft)?;
    /// assert_eq!(book.totals(id)?.gross, dec!(24.00));
    /// assert_eq!(*book.totals(id)?, book.invoice(id)?.totals()?);
    /// # Ok::<(), invoice_core::Error>(())
    /// ```
    pub fn totals(&self, id: InvoiceId) -> Result<&Totals> {
        let inv = self.invoice(id)?;
        let Some(cell) = index(id.0).and_then(|i| self.totals.get(i)) else {
            return Err(Error::UnknownInvoice { id: id.to_string() });
        };
        match cell.get_or_init(|| inv.totals().ok()) {
            Some(totals) => Ok(totals),
            None => Err(inv.totals().err().unwrap_or(Error::Overflow { context: "invoice totals" })),
        }
    }

    /// The process batch that [`Command::UndoProcess`] would undo now.
    pub fn last_process_batch(&self) -> Option<&ProcessBatch> {
        self.state.batches.iter().rev().find_map(|b| match b {
            Batch::Process(p) if p.undone.is_none() => Some(p),
            _ => None,
        })
    }

    // ---- convenience wrappers around `apply` that return what callers need next ----

    /// Create one draft and return its id.
    pub fn create_invoice(&mut self, actor: &Actor, invoice: Invoice) -> Result<InvoiceId> {
        let first = self.next_invoice_id();
        self.apply(actor, Command::CreateInvoices { invoices: vec![invoice] })?;
        Ok(first)
    }

    /// Create drafts and return their ids.
    pub fn create_invoices(&mut self, actor: &Actor, invoices: Vec<Invoice>) -> Result<Vec<InvoiceId>> {
        let first = self.next_invoice_id().0;
        let n = invoices.len() as u64;
        self.apply(actor, Command::CreateInvoices { invoices })?;
        Ok((first..first + n).map(InvoiceId).collect())
    }

    /// Issue one draft and return its number.
    pub fn issue(&mut self, actor: &Actor, invoice: InvoiceId) -> Result<String> {
        self.apply(actor, Command::Issue { invoices: vec![invoice] })?;
        Ok(self.invoice(invoice)?.label())
    }

    /// Create an export batch and return its id.
    pub fn create_export_batch(
        &mut self,
        actor: &Actor,
        invoices: Vec<InvoiceId>,
        target: Target,
        force: Option<String>,
    ) -> Result<BatchId> {
        let id = self.next_batch_id();
        self.apply(actor, Command::CreateExportBatch { invoices, target, force })?;
        Ok(id)
    }

    /// Process a selection and return the process batch's id.
    pub fn process(&mut self, actor: &Actor, invoices: Vec<InvoiceId>, expected: usize) -> Result<BatchId> {
        let id = self.next_batch_id();
        self.apply(actor, Command::Process { invoices, expected })?;
        Ok(id)
    }

    /// Create a credit note for an issued invoice and return its id.
    pub fn create_credit_note(
        &mut self,
        actor: &Actor,
        credits: InvoiceId,
        lines: Option<Vec<Line>>,
    ) -> Result<InvoiceId> {
        let id = self.next_invoice_id();
        self.apply(actor, Command::CreateCreditNote { credits, lines })?;
        Ok(id)
    }

    /// Create an adjustment invoice for an exported invoice and return its id.
    pub fn create_adjustment(&mut self, actor: &Actor, corrects: InvoiceId, lines: Vec<Line>) -> Result<InvoiceId> {
        let id = self.next_invoice_id();
        self.apply(actor, Command::CreateAdjustment { corrects, lines })?;
        Ok(id)
    }

    pub(crate) fn next_invoice_id(&self) -> InvoiceId {
        InvoiceId(self.state.invoices.len() as u64 + 1)
    }

    fn next_batch_id(&self) -> BatchId {
        BatchId(self.state.batches.len() as u64 + 1)
    }

    /// Apply a command for `actor`: check the policy and every rule, then record and apply the
    /// resulting events. On error nothing changes. Returns the journal entries it added.
    pub fn apply(&mut self, actor: &Actor, command: Command) -> Result<&[Envelope]> {
        self.state.settings.policy.check(actor, command.action())?;
        let events = self.decide(actor, command)?;
        self.commit(actor, events)
    }

    /// Record and apply events that were decided against the current state.
    pub(crate) fn commit(&mut self, actor: &Actor, events: Vec<Event>) -> Result<&[Envelope]> {
        let at = self.clock.now();
        let start = self.state.journal.len();
        for event in events {
            let env = Envelope { seq: self.state.journal.len() as u64 + 1, at, actor: actor.clone(), event };
            self.mutate(&env)?;
            self.state.journal.push(env);
        }
        self.hashes.resize_with(self.state.invoices.len(), OnceLock::new);
        self.totals.resize_with(self.state.invoices.len(), OnceLock::new);
        Ok(&self.state.journal[start..])
    }

    // ---------------------------------------------------------------- decide

    /// Check a command against the current state and turn it into events, changing nothing.
    fn decide(&self, actor: &Actor, command: Command) -> Result<Vec<Event>> {
        match command {
            Command::SaveProject { .. }
            | Command::SavePerson { .. }
            | Command::SetApprovalFlows { .. }
            | Command::RecordTime { .. }
            | Command::EditTime { .. }
            | Command::LockTime { .. }
            | Command::ApproveTime { .. }
            | Command::RecordExpenses { .. }
            | Command::SubmitExpenses { .. }
            | Command::ApproveExpenses { .. }
            | Command::SaveMilestone { .. }
            | Command::ApproveMilestone { .. }
            | Command::SaveDeferredItem { .. }
            | Command::Generate { .. } => self.decide_cycle(actor, command),
            Command::CreateInvoices { invoices } => self.decide_create(invoices),
            Command::Edit { invoice, changes } => self.decide_edit(invoice, changes),
            Command::Issue { invoices } => self.decide_issue(invoices),
            Command::Void { invoice, reason } => {
                let inv = self.invoice(invoice)?;
                let label = inv.label();
                let refuse = |reason: String| Err(Error::NotAllowed { invoice: label.clone(), action: "void", reason });
                if inv.status.accounting.is_exported() {
                    return refuse("it was exported; correct it with a credit note or an adjustment".into());
                }
                if let Some(b) = inv.batch {
                    return refuse(format!("it is in export batch {b}; withdraw it first"));
                }
                if !inv.payments.is_empty() {
                    return refuse("payments were recorded against it".into());
                }
                transition(&label, inv.status.document, Document::Void)?;
                Ok(vec![Event::InvoiceVoided { invoice, reason }])
            }
            Command::MarkReadyToSend { invoices } => self.decide_delivery(invoices, Delivery::ReadyToSend),
            Command::MarkSent { invoices } => self.decide_delivery(invoices, Delivery::Sent),
            Command::RecordPayment { invoice, payment } => {
                let inv = self.issued(invoice, "record a payment")?;
                let amount = Money::new(payment.amount, inv.currency)?;
                let outstanding =
                    inv.totals()?.gross.checked_sub(inv.paid()?).ok_or(Error::Overflow { context: "outstanding" })?;
                if amount.amount <= Decimal::ZERO {
                    return Err(Error::NotAllowed {
                        invoice: inv.label(),
                        action: "record a payment",
                        reason: format!("the amount {} is not positive", amount.amount),
                    });
                }
                if amount.amount > outstanding {
                    return Err(Error::Overpayment {
                        invoice: inv.label(),
                        outstanding: outstanding.to_string(),
                        amount: amount.amount.to_string(),
                    });
                }
                let to = if amount.amount == outstanding { PaymentStatus::Paid } else { PaymentStatus::PartiallyPaid };
                moved(inv, inv.status.payment, to)?;
                Ok(vec![Event::PaymentRecorded {
                    invoice,
                    payment: PaymentRecord { amount: amount.amount, ..payment },
                }])
            }
            Command::CreateCreditNote { credits, lines } => {
                let original = self.issued(credits, "credit it")?;
                let number = original.number.clone().unwrap_or_default();
                let note = self.correction_of(
                    original,
                    Kind::CreditNote { credits: Some(number) },
                    lines.unwrap_or_else(|| original.lines.clone()),
                );
                self.decide_create(vec![note])
            }
            Command::CreateAdjustment { corrects, lines } => {
                let original = self.issued(corrects, "adjust it")?;
                if !original.status.accounting.is_exported() {
                    return Err(Error::NotAllowed {
                        invoice: original.label(),
                        action: "adjust it",
                        reason: "it was not exported; edit it instead".into(),
                    });
                }
                let number = original.number.clone().unwrap_or_default();
                let adjustment = self.correction_of(original, Kind::Adjustment { corrects: number }, lines);
                self.decide_create(vec![adjustment])
            }
            Command::CreateExportBatch { invoices, target, force } => self.decide_export_batch(invoices, target, force),
            Command::DiscardBatch { batch } => {
                let b = self.export_batch(batch)?;
                if b.state != BatchState::Open {
                    return Err(Error::BatchState {
                        batch,
                        state: b.state_name(),
                        action: "discard it (unpost it first)",
                    });
                }
                let invoices = b
                    .invoices
                    .iter()
                    .copied()
                    .filter(|i| b.results.get(i).is_some_and(ExportResult::is_open))
                    .collect();
                Ok(vec![Event::InvoicesWithdrawn { batch, invoices }])
            }
            Command::Post { batch } => {
                let b = self.export_batch(batch)?;
                if b.state != BatchState::Open {
                    return Err(Error::BatchState { batch, state: b.state_name(), action: "post it" });
                }
                Ok(vec![Event::BatchPosted { batch }])
            }
            Command::Unpost { batch } => {
                let b = self.export_batch(batch)?;
                if b.state != BatchState::Posted || b.export_started() {
                    return Err(Error::BatchState { batch, state: b.state_name(), action: "unpost it" });
                }
                Ok(vec![Event::BatchUnposted { batch }])
            }
            Command::RecordExportResults { batch, results } => self.decide_results(batch, results, false),
            Command::MarkExported { batch } => {
                let b = self.export_batch(batch)?;
                let results = b
                    .invoices
                    .iter()
                    .map(|i| (*i, Outcome::Exported))
                    .filter(|(i, _)| b.results.get(i).is_some_and(ExportResult::is_open))
                    .collect();
                self.decide_results(batch, results, true)
            }
            Command::Withdraw { batch, invoices } => {
                let b = self.export_batch(batch)?;
                if b.state == BatchState::Closed {
                    return Err(Error::BatchState { batch, state: b.state_name(), action: "withdraw invoices" });
                }
                self.check_selection(&invoices)?;
                for id in &invoices {
                    let label = self.invoice(*id)?.label();
                    match b.results.get(id) {
                        None => return Err(Error::NotInBatch { invoice: label, batch }),
                        Some(r) if !r.is_open() => {
                            return Err(Error::NotAllowed {
                                invoice: label,
                                action: "withdraw it",
                                reason: format!("it is {} in batch {batch}", r.name()),
                            })
                        }
                        Some(_) => {}
                    }
                }
                Ok(vec![Event::InvoicesWithdrawn { batch, invoices }])
            }
            Command::Process { invoices, expected } => {
                self.check_selection(&invoices)?;
                if invoices.len() != expected {
                    return Err(Error::CountMismatch { expected, actual: invoices.len() });
                }
                for id in &invoices {
                    let inv = self.issued(*id, "process it")?;
                    moved(inv, inv.status.accounting, Accounting::Processed)?;
                }
                Ok(vec![Event::ProcessBatchCreated { batch: self.next_batch_id(), invoices }])
            }
            Command::UndoProcess { batch } => {
                let refused = |reason| Err(Error::UndoRefused { batch, reason });
                let Batch::Process(p) = self.batch(batch)? else {
                    return refused(UndoRefusal::NotAProcessBatch);
                };
                if p.undone.is_some() {
                    return refused(UndoRefusal::AlreadyUndone);
                }
                if let Some(last) = self.last_process_batch() {
                    if last.id != batch {
                        return refused(UndoRefusal::NotLastBatch { last: last.id });
                    }
                }
                for entry in &p.invoices {
                    let inv = self.invoice(entry.invoice)?;
                    if inv.revision != entry.revision_after {
                        return refused(UndoRefusal::InvoiceChanged { invoice: inv.label() });
                    }
                }
                Ok(vec![Event::ProcessBatchUndone { batch }])
            }
            Command::Unprocess { invoice } => {
                self.check_processed(self.invoice(invoice)?)?;
                Ok(vec![Event::InvoiceUnprocessed { invoice }])
            }
            Command::RecordReference { invoice, reference } => {
                let inv = self.issued(invoice, "record a reference")?;
                if reference.trim().is_empty() {
                    return Err(Error::NotAllowed {
                        invoice: inv.label(),
                        action: "record a reference",
                        reason: "the reference is empty".into(),
                    });
                }
                Ok(vec![Event::ReferenceRecorded { invoice, reference }])
            }
        }
    }

    /// The invoice, which must be issued (not a draft, not void).
    fn issued(&self, id: InvoiceId, action: &'static str) -> Result<&Invoice> {
        let inv = self.invoice(id)?;
        if inv.status.document != Document::Issued {
            return Err(Error::NotAllowed {
                invoice: inv.label(),
                action,
                reason: format!("it is {}", inv.status.document),
            });
        }
        Ok(inv)
    }

    fn correction_of(&self, original: &Invoice, kind: Kind, lines: Vec<Line>) -> Invoice {
        let mut inv = Invoice::builder(original.customer.clone(), original.currency).kind(kind).lines(lines).build();
        inv.origin = original.origin;
        inv.project = original.project.clone();
        inv.location = original.location.clone();
        inv.invoice_type = original.invoice_type.clone();
        inv.billing_period = original.billing_period;
        inv.rounding = original.rounding;
        inv
    }

    fn check_selection(&self, invoices: &[InvoiceId]) -> Result<()> {
        if invoices.is_empty() {
            return Err(Error::EmptySelection);
        }
        let mut seen = Seen::new(self.state.invoices.len());
        for id in invoices {
            let inv = self.invoice(*id)?;
            if !seen.insert(*id) {
                return Err(Error::DuplicateInSelection { invoice: inv.label() });
            }
        }
        Ok(())
    }

    fn decide_create(&self, invoices: Vec<Invoice>) -> Result<Vec<Event>> {
        let first = self.next_invoice_id();
        // the numbers the new invoices bring, each once and not in use yet
        let mut new_numbers: crate::hash::QuickMap<&str, ()> =
            crate::hash::QuickMap::with_capacity_and_hasher(invoices.len(), Default::default());
        for (k, inv) in invoices.iter().enumerate() {
            if inv.status != Status::default() || !inv.payments.is_empty() || inv.batch.is_some() || inv.revision != 0 {
                let id = InvoiceId(first.0 + k as u64);
                return Err(Error::NotAllowed {
                    invoice: inv.number.clone().unwrap_or_else(|| format!("draft {id}")),
                    action: "create it",
                    reason: "status, payments, batch and revision are set by the book; leave them at their defaults"
                        .into(),
                });
            }
            if let Some(number) = &inv.number {
                if self.numbers.contains_key(number) || new_numbers.insert(number, ()).is_some() {
                    return Err(Error::DuplicateNumber { number: number.clone() });
                }
            }
            if let Some(series) = &inv.series {
                if !self.state.series.contains_key(series) {
                    return Err(Error::UnknownSeries { series: series.clone() });
                }
            }
        }
        drop(new_numbers);
        let mut out = Vec::with_capacity(invoices.len());
        for (k, mut inv) in invoices.into_iter().enumerate() {
            inv.id = InvoiceId(first.0 + k as u64);
            inv.lines.iter_mut().for_each(Line::normalize_zeros);
            out.push(inv);
        }
        Ok(vec![Event::InvoicesCreated { first, invoices: out }])
    }

    fn decide_edit(&self, id: InvoiceId, changes: Vec<Change>) -> Result<Vec<Event>> {
        let changes: Vec<Change> = changes.into_iter().map(Change::normalized).collect();
        let inv = self.invoice(id)?;
        let accounting = inv.status.accounting;
        for change in &changes {
            let refuse =
                |state: &'static str| Err(Error::EditNotAllowed { invoice: inv.label(), field: change.field(), state });
            if inv.status.document == Document::Void {
                return refuse("void");
            }
            match accounting {
                Accounting::Pending | Accounting::Batched => {}
                Accounting::Posted if change.allowed_when_posted() => {}
                other => return refuse(crate::status::AxisState::name(other)),
            }
            if inv.status.document == Document::Issued && matches!(change, Change::Kind(_) | Change::IssueDate(None)) {
                return refuse("issued");
            }
            if !inv.payments.is_empty()
                && matches!(change, Change::Lines(_) | Change::Currency(_) | Change::Rounding(_))
            {
                return refuse("partly or fully paid");
            }
        }
        if inv.status.document == Document::Issued {
            let mut edited = inv.clone();
            for change in &changes {
                change.apply(&mut edited);
            }
            let violations = edited.validate();
            if !violations.is_empty() {
                return Err(Error::Invalid { invoice: inv.label(), violations });
            }
        }
        Ok(vec![Event::InvoiceEdited { invoice: id, changes }])
    }

    fn decide_issue(&self, invoices: Vec<InvoiceId>) -> Result<Vec<Event>> {
        self.check_selection(&invoices)?;
        let today: NaiveDate = self.clock.now().date_naive();
        let mut counters: HashMap<String, u64> = HashMap::new();
        // credited so far per credited number, in the credited invoice's currency
        let mut credited: HashMap<String, Decimal> = HashMap::new();
        let mut issued = Vec::with_capacity(invoices.len());
        let valid = self.valid_in_parallel(&invoices);
        for (k, id) in invoices.into_iter().enumerate() {
            let inv = self.invoice(id)?;
            moved(inv, inv.status.document, Document::Issued)?;
            if !valid.get(k).copied().unwrap_or(false) {
                let violations = inv.validate();
                if !violations.is_empty() {
                    return Err(Error::Invalid { invoice: inv.label(), violations });
                }
            }
            if let Kind::CreditNote { credits: Some(n) } = &inv.kind {
                if self.state.settings.limit_credit_notes {
                    self.check_credit_limit(inv, n, &mut credited)?;
                }
            }
            let (number, series) = self.number_for(inv, &mut counters)?;
            issued.push(Issued { invoice: id, number, issue_date: inv.issue_date.unwrap_or(today), series });
        }
        Ok(vec![Event::InvoicesIssued { issued }])
    }

    /// Whether each of `invoices` passes [`Invoice::validate`], checked on every core for a
    /// large selection (a month's invoices); `false` also for an unknown id. Only a speed-up:
    /// the caller validates again (in order) whatever is not known to be valid, so errors come
    /// out as without it.
    fn valid_in_parallel(&self, invoices: &[InvoiceId]) -> Vec<bool> {
        const LARGE: usize = 4096;
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
        if invoices.len() < LARGE || threads < 2 {
            return Vec::new();
        }
        let check = |ids: &[InvoiceId]| -> Vec<bool> {
            ids.iter().map(|id| self.invoice(*id).is_ok_and(|inv| inv.validate().is_empty())).collect()
        };
        let per_thread = invoices.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = invoices.chunks(per_thread).map(|part| scope.spawn(move || check(part))).collect();
            parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    }

    /// The number `inv` gets at issue: its own, or the next of its series (`counters` carries
    /// the numbers handed out earlier in the same command). Also returns the series advanced.
    pub(crate) fn number_for(
        &self,
        inv: &Invoice,
        counters: &mut HashMap<String, u64>,
    ) -> Result<(String, Option<String>)> {
        if let Some(n) = &inv.number {
            return Ok((n.clone(), None));
        }
        let name = match &inv.series {
            Some(s) => s.clone(),
            None => self
                .state
                .settings
                .series_by_kind
                .get(inv.kind.name())
                .cloned()
                .ok_or_else(|| Error::UnknownSeries { series: format!("(for {})", inv.kind.name()) })?,
        };
        let series = self.state.series.get(&name).ok_or_else(|| Error::UnknownSeries { series: name.clone() })?;
        let counter = counters.entry(name.clone()).or_insert(series.next);
        let number = Series { next: *counter, ..series.clone() }.peek();
        *counter += 1;
        if self.numbers.contains_key(&number) {
            return Err(Error::DuplicateNumber { number });
        }
        Ok((number, Some(name)))
    }

    /// A credit note may not credit more than the credited invoice's total, counting every
    /// credit note issued against it before (and earlier ones in the same command).
    fn check_credit_limit(
        &self,
        note: &Invoice,
        credited_number: &str,
        credited: &mut HashMap<String, Decimal>,
    ) -> Result<()> {
        let Some(original) = self.invoice_by_number(credited_number) else {
            return Ok(());
        };
        if original.currency != note.currency {
            return Err(Error::CurrencyMismatch { left: original.currency, right: note.currency });
        }
        let so_far = match credited.get(credited_number) {
            Some(v) => *v,
            None => self
                .state
                .invoices
                .iter()
                .filter(|i| i.status.document == Document::Issued)
                .filter(|i| matches!(&i.kind, Kind::CreditNote { credits: Some(n) } if n == credited_number))
                .try_fold(Decimal::ZERO, |acc, i| Ok::<_, Error>(acc + i.totals()?.gross))?,
        };
        let total = so_far.checked_add(note.totals()?.gross).ok_or(Error::Overflow { context: "credited total" })?;
        let limit = original.totals()?.gross;
        if total > limit {
            return Err(Error::NotAllowed {
                invoice: note.label(),
                action: "issue it",
                reason: format!("credit notes for {credited_number} would total {total}, more than its {limit}"),
            });
        }
        credited.insert(credited_number.to_string(), total);
        Ok(())
    }

    fn decide_delivery(&self, invoices: Vec<InvoiceId>, to: Delivery) -> Result<Vec<Event>> {
        self.check_selection(&invoices)?;
        for id in &invoices {
            let inv = self.issued(*id, "change its delivery status")?;
            moved(inv, inv.status.delivery, to)?;
        }
        Ok(vec![Event::DeliveryMarked { invoices, to }])
    }

    fn decide_export_batch(
        &self,
        invoices: Vec<InvoiceId>,
        target: Target,
        force: Option<String>,
    ) -> Result<Vec<Event>> {
        self.check_selection(&invoices)?;
        if force.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(Error::MissingReason);
        }
        for id in &invoices {
            let inv = self.issued(*id, "batch it")?;
            if let Some(batch) = inv.batch {
                return Err(Error::AlreadyInBatch { invoice: inv.label(), batch });
            }
            if !inv.status.accounting.is_exported() {
                moved(inv, inv.status.accounting, Accounting::Batched)?;
            }
            if force.is_none() {
                if let Some(previous) = self.state.ledger.last_export(*id, &target) {
                    return Err(Error::AlreadyExported {
                        invoice: inv.label(),
                        target: target.to_string(),
                        batch: previous.batch,
                    });
                }
            }
        }
        Ok(vec![Event::ExportBatchCreated { batch: self.next_batch_id(), target, invoices, force }])
    }

    fn decide_results(&self, batch: BatchId, results: Vec<(InvoiceId, Outcome)>, bypass: bool) -> Result<Vec<Event>> {
        let b = self.export_batch(batch)?;
        if b.state != BatchState::Posted {
            return Err(Error::BatchState {
                batch,
                state: b.state_name(),
                action: "record export results (post it first)",
            });
        }
        let mut recorded = Vec::with_capacity(results.len());
        let mut seen = Seen::new(self.state.invoices.len());
        let mut slots = InOrder::new(&b.results, results.iter().map(|r| r.0));
        for (id, outcome) in results {
            let inv = self.invoice(id)?;
            match slots.get(id) {
                None => return Err(Error::NotInBatch { invoice: inv.label(), batch }),
                Some(r) if !r.is_open() => {
                    return Err(Error::NotAllowed {
                        invoice: inv.label(),
                        action: "record an export result",
                        reason: format!("it is already {} in batch {batch}", r.name()),
                    })
                }
                Some(_) => {}
            }
            if !seen.insert(id) {
                return Err(Error::DuplicateInSelection { invoice: inv.label() });
            }
            recorded.push(self.recorded(inv, outcome));
        }
        // Invoices without lines are never sent: record them as skipped with the others.
        for (id, result) in b.selection_results() {
            if !seen.contains(id) && result.is_some_and(ExportResult::is_open) {
                let inv = self.invoice(id)?;
                if inv.export_skip_reason().is_some() {
                    recorded.push(self.recorded(inv, Outcome::Exported));
                }
            }
        }
        Ok(vec![Event::ExportResultsRecorded { batch, results: recorded, bypass }])
    }

    fn recorded(&self, inv: &Invoice, outcome: Outcome) -> RecordedResult {
        let outcome = match inv.export_skip_reason() {
            Some(reason) => Outcome::Skipped { reason: reason.to_string() },
            None => outcome,
        };
        let content_hash = matches!(outcome, Outcome::Exported).then(|| self.content_hash_of(inv));
        RecordedResult { invoice: inv.id, outcome, content_hash }
    }

    // ---------------------------------------------------------------- mutate

    pub(crate) fn invoice_mut(&mut self, id: InvoiceId) -> Result<&mut Invoice> {
        index(id.0)
            .and_then(|i| self.state.invoices.get_mut(i))
            .ok_or_else(|| Error::UnknownInvoice { id: id.to_string() })
    }

    fn export_batch_mut(&mut self, id: BatchId) -> Result<&mut ExportBatch> {
        match index(id.0).and_then(|i| self.state.batches.get_mut(i)) {
            Some(Batch::Export(b)) => Ok(b),
            Some(Batch::Process(_)) => {
                Err(Error::BatchState { batch: id, state: "a process batch", action: "export it" })
            }
            None => Err(Error::UnknownBatch { id }),
        }
    }

    /// Move an invoice on its accounting axis (checked) and count the change.
    fn move_accounting(&mut self, id: InvoiceId, to: Accounting) -> Result<()> {
        let inv = self.invoice_mut(id)?;
        inv.status.accounting = moved(inv, inv.status.accounting, to)?;
        inv.revision += 1;
        Ok(())
    }

    /// Apply one event. Events were checked when they were decided; the checks here keep a
    /// damaged journal from building an impossible book.
    fn mutate(&mut self, env: &Envelope) -> Result<()> {
        match &env.event {
            Event::ProjectSaved { .. }
            | Event::PersonSaved { .. }
            | Event::ApprovalFlowsSet { .. }
            | Event::TimeRecorded { .. }
            | Event::TimeEdited { .. }
            | Event::TimeLocked { .. }
            | Event::TimeApproved { .. }
            | Event::ExpensesRecorded { .. }
            | Event::ExpensesSubmitted { .. }
            | Event::ExpensesApproved { .. }
            | Event::MilestoneSaved { .. }
            | Event::MilestoneApproved { .. }
            | Event::DeferredItemSaved { .. }
            | Event::InvoicesGenerated { .. } => return self.mutate_cycle(env),
            Event::BookOpened { .. } => {
                return Err(Error::Replay { seq: env.seq, reason: "book_opened may only come first".into() })
            }
            Event::InvoicesCreated { first, invoices } => {
                if *first != self.next_invoice_id() {
                    return Err(Error::Replay {
                        seq: env.seq,
                        reason: format!("expected the next invoice id to be {first}"),
                    });
                }
                self.state.invoices.reserve(invoices.len());
                self.numbers.reserve(invoices.iter().filter(|i| i.number.is_some()).count());
                for inv in invoices {
                    if let Some(n) = &inv.number {
                        self.numbers.insert(n.clone(), inv.id);
                    }
                    // the journal keeps the event's invoices; the state gets copies
                    self.state.invoices.push(inv.clone());
                }
            }
            Event::InvoiceEdited { invoice, changes } => {
                self.forget_content_hash(*invoice);
                let inv = self.invoice_mut(*invoice)?;
                for change in changes {
                    change.apply(inv);
                }
                inv.revision += 1;
            }
            Event::InvoicesIssued { issued } => {
                for is in issued {
                    self.forget_content_hash(is.invoice);
                }
                for is in issued {
                    let inv = self.invoice_mut(is.invoice)?;
                    inv.status.document = moved(inv, inv.status.document, Document::Issued)?;
                    if inv.number.as_deref() != Some(is.number.as_str()) {
                        inv.number = Some(is.number.clone());
                    }
                    inv.issue_date = Some(is.issue_date);
                    inv.revision += 1;
                    // a number a draft brought along is in the index already
                    match self.numbers.get_mut(&is.number) {
                        Some(id) => *id = is.invoice,
                        None => {
                            self.numbers.insert(is.number.clone(), is.invoice);
                        }
                    }
                    if let Some(name) = &is.series {
                        let series = self
                            .state
                            .series
                            .get_mut(name)
                            .ok_or_else(|| Error::UnknownSeries { series: name.clone() })?;
                        series.next += 1;
                    }
                }
            }
            Event::InvoiceVoided { invoice, .. } => {
                self.forget_content_hash(*invoice);
                let inv = self.invoice_mut(*invoice)?;
                inv.status.document = moved(inv, inv.status.document, Document::Void)?;
                inv.revision += 1;
                self.release_billed(*invoice);
            }
            Event::DeliveryMarked { invoices, to } => {
                for id in invoices {
                    let inv = self.invoice_mut(*id)?;
                    inv.status.delivery = moved(inv, inv.status.delivery, *to)?;
                    inv.revision += 1;
                }
            }
            Event::PaymentRecorded { invoice, payment } => {
                let inv = self.invoice_mut(*invoice)?;
                let gross = inv.totals()?.gross;
                inv.payments.push(payment.clone());
                let paid = inv.paid()?;
                let to = if paid >= gross { PaymentStatus::Paid } else { PaymentStatus::PartiallyPaid };
                inv.status.payment = moved(inv, inv.status.payment, to)?;
                inv.revision += 1;
            }
            Event::ExportBatchCreated { batch, target, invoices, force } => {
                if *batch != self.next_batch_id() {
                    return Err(Error::Replay {
                        seq: env.seq,
                        reason: format!("expected the next batch id to be {batch}"),
                    });
                }
                for id in invoices {
                    let inv = self.invoice_mut(*id)?;
                    if let Some(other) = inv.batch {
                        return Err(Error::AlreadyInBatch { invoice: inv.label(), batch: other });
                    }
                    inv.batch = Some(*batch);
                    if !inv.status.accounting.is_exported() {
                        inv.status.accounting = moved(inv, inv.status.accounting, Accounting::Batched)?;
                    }
                    inv.revision += 1;
                }
                // built in one go (sorted once) rather than by one insert per invoice
                let results: BTreeMap<InvoiceId, ExportResult> =
                    invoices.iter().map(|id| (*id, ExportResult::NotYetStarted)).collect();
                self.state.batches.push(Batch::Export(ExportBatch {
                    id: *batch,
                    target: target.clone(),
                    invoices: invoices.clone(),
                    results,
                    state: BatchState::Open,
                    force_reason: force.clone(),
                    created_by: env.actor.id.clone(),
                    created_at: env.at,
                    posted_at: None,
                }));
            }
            Event::BatchPosted { batch } | Event::BatchUnposted { batch } => {
                let posting = matches!(env.event, Event::BatchPosted { .. });
                let b = self.export_batch_mut(*batch)?;
                b.state = if posting { BatchState::Posted } else { BatchState::Open };
                if posting {
                    b.posted_at = Some(env.at);
                }
                let open: Vec<InvoiceId> = b
                    .selection_results()
                    .filter(|(_, r)| r.is_some_and(ExportResult::is_open))
                    .map(|(i, _)| i)
                    .collect();
                let (from, to) = if posting {
                    (Accounting::Batched, Accounting::Posted)
                } else {
                    (Accounting::Posted, Accounting::Batched)
                };
                for id in open {
                    if self.invoice(id)?.status.accounting == from {
                        self.move_accounting(id, to)?;
                    }
                }
            }
            Event::ExportResultsRecorded { batch, results, bypass } => {
                let (target, force) = {
                    let b = self.export_batch_mut(*batch)?;
                    (Arc::new(b.target.clone()), b.force_reason.as_deref().map(Arc::<str>::from))
                };
                let actor: Arc<str> = Arc::from(env.actor.id.as_str());
                self.state.ledger.reserve(&target, results.iter().filter(|r| r.content_hash.is_some()).count());
                let state = &mut self.state;
                let Some(Batch::Export(b)) = index(batch.0).and_then(|i| state.batches.get_mut(i)) else {
                    return Err(Error::UnknownBatch { id: *batch });
                };
                let (invoices, ledger) = (&mut state.invoices, &mut state.ledger);
                // an invoice's kept totals serve the exports being staged; once its result is
                // recorded they go, so that a long-lived book does not keep them all
                let kept_totals = &mut self.totals;
                let mut record = |r: &RecordedResult, slot: Option<&mut ExportResult>| -> Result<()> {
                    let result = match &r.outcome {
                        Outcome::Exported => ExportResult::Exported { bypass: *bypass },
                        Outcome::Skipped { reason } => ExportResult::Skipped { reason: reason.clone() },
                        Outcome::Failed { message } => ExportResult::Failed { message: message.clone() },
                    };
                    let done = !result.is_open();
                    match slot {
                        Some(slot) if slot.is_open() => *slot = result,
                        _ => {
                            return Err(Error::Replay {
                                seq: env.seq,
                                reason: format!("invoice {} has no open result in batch {batch}", r.invoice),
                            })
                        }
                    }
                    if done {
                        let Some(inv) = index(r.invoice.0).and_then(|i| invoices.get_mut(i)) else {
                            return Err(Error::UnknownInvoice { id: r.invoice.to_string() });
                        };
                        if inv.status.accounting == Accounting::Posted {
                            inv.status.accounting = Accounting::Exported;
                        }
                        inv.batch = None;
                        inv.revision += 1;
                        if let Some(cell) = index(r.invoice.0).and_then(|i| kept_totals.get_mut(i)) {
                            cell.take();
                        }
                    }
                    if let Some(hash) = &r.content_hash {
                        ledger.push(LedgerEntry {
                            invoice: r.invoice,
                            target: Arc::clone(&target),
                            batch: *batch,
                            content_hash: *hash,
                            bypass: *bypass,
                            forced: force.clone(),
                            actor: Arc::clone(&actor),
                            at: env.at,
                        });
                    }
                    Ok(())
                };
                // Results in id order (the usual case) find their slots in one walk over the
                // batch's map; others look each one up.
                if results.windows(2).all(|w| w[0].invoice < w[1].invoice) {
                    let mut walk = b.results.range_mut(results.first().map_or(InvoiceId(0), |r| r.invoice)..);
                    for r in results {
                        let slot = walk.find(|(id, _)| **id >= r.invoice).filter(|(id, _)| **id == r.invoice);
                        record(r, slot.map(|(_, slot)| slot))?;
                    }
                } else {
                    for r in results {
                        record(r, b.results.get_mut(&r.invoice))?;
                    }
                }
                self.close_if_done(*batch)?;
            }
            Event::InvoicesWithdrawn { batch, invoices } => {
                for id in invoices {
                    let b = self.export_batch_mut(*batch)?;
                    match b.results.get_mut(id) {
                        Some(slot) if slot.is_open() => *slot = ExportResult::Withdrawn,
                        _ => {
                            return Err(Error::Replay {
                                seq: env.seq,
                                reason: format!("invoice {id} cannot be withdrawn from batch {batch}"),
                            })
                        }
                    }
                    let inv = self.invoice_mut(*id)?;
                    if matches!(inv.status.accounting, Accounting::Batched | Accounting::Posted) {
                        inv.status.accounting = moved(inv, inv.status.accounting, Accounting::Pending)?;
                    }
                    inv.batch = None;
                    inv.revision += 1;
                }
                self.close_if_done(*batch)?;
            }
            Event::ProcessBatchCreated { batch, invoices } => {
                if *batch != self.next_batch_id() {
                    return Err(Error::Replay {
                        seq: env.seq,
                        reason: format!("expected the next batch id to be {batch}"),
                    });
                }
                let mut entries = Vec::with_capacity(invoices.len());
                for id in invoices {
                    let inv = self.invoice_mut(*id)?;
                    let before = inv.status.accounting;
                    let revision_before = inv.revision;
                    inv.status.accounting = moved(inv, before, Accounting::Processed)?;
                    inv.revision += 1;
                    entries.push(ProcessedInvoice {
                        invoice: *id,
                        before,
                        revision_before,
                        revision_after: inv.revision,
                    });
                }
                self.state.batches.push(Batch::Process(ProcessBatch {
                    id: *batch,
                    invoices: entries,
                    created_by: env.actor.id.clone(),
                    created_at: env.at,
                    undone: None,
                }));
            }
            Event::ProcessBatchUndone { batch } => {
                let i = index(batch.0).ok_or(Error::UnknownBatch { id: *batch })?;
                let Some(Batch::Process(p)) = self.state.batches.get(i) else {
                    return Err(Error::UndoRefused { batch: *batch, reason: UndoRefusal::NotAProcessBatch });
                };
                let entries = p.invoices.clone();
                for e in &entries {
                    let inv = self.invoice(e.invoice)?;
                    if inv.revision != e.revision_after {
                        return Err(Error::UndoRefused {
                            batch: *batch,
                            reason: UndoRefusal::InvoiceChanged { invoice: inv.label() },
                        });
                    }
                }
                for e in &entries {
                    let inv = self.invoice_mut(e.invoice)?;
                    inv.status.accounting = e.before;
                    inv.revision = e.revision_before;
                }
                if let Some(Batch::Process(p)) = self.state.batches.get_mut(i) {
                    p.undone = Some((env.actor.id.clone(), env.at));
                }
            }
            Event::InvoiceUnprocessed { invoice } => {
                self.check_processed(self.invoice(*invoice)?)?;
                self.move_accounting(*invoice, Accounting::Exported)?;
            }
            Event::ReferenceRecorded { invoice, reference } => {
                self.forget_content_hash(*invoice);
                let inv = self.invoice_mut(*invoice)?;
                inv.accounting_reference = Some(reference.clone());
                inv.revision += 1;
            }
        }
        Ok(())
    }

    fn check_processed(&self, inv: &Invoice) -> Result<()> {
        if inv.status.accounting == Accounting::Processed {
            Ok(())
        } else {
            Err(Error::InvalidTransition {
                invoice: inv.label(),
                axis: crate::status::Axis::Accounting,
                from: crate::status::AxisState::name(inv.status.accounting),
                to: "exported",
            })
        }
    }

    fn close_if_done(&mut self, batch: BatchId) -> Result<()> {
        let b = self.export_batch_mut(batch)?;
        if !b.results.values().any(ExportResult::is_open) {
            b.state = BatchState::Closed;
        }
        Ok(())
    }
}

/// [`transition`] for `inv`, naming it only when the move is refused.
fn moved<S: crate::status::AxisState>(inv: &Invoice, from: S, to: S) -> Result<S> {
    if from.allows(to) {
        Ok(to)
    } else {
        transition(&inv.label(), from, to)
    }
}

/// The invoices a command has met so far, by index (the book's ids are dense): cheaper than a
/// hash set over a selection of a whole month.
struct Seen(Vec<bool>);

impl Seen {
    fn new(invoices: usize) -> Seen {
        Seen(vec![false; invoices])
    }

    /// True the first time `id` is met (ids the book does not have are refused before).
    fn insert(&mut self, id: InvoiceId) -> bool {
        match index(id.0).and_then(|i| self.0.get_mut(i)) {
            Some(seen) => !std::mem::replace(seen, true),
            None => true,
        }
    }

    fn contains(&self, id: InvoiceId) -> bool {
        index(id.0).and_then(|i| self.0.get(i)).copied().unwrap_or(false)
    }
}
