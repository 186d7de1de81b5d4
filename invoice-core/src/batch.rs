//! Export batches, process batches and the export ledger.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::hash::QuickMap;
use crate::invoice::{BatchId, InvoiceId};
use crate::status::Accounting;

/// Where an export batch goes: a format (`qbxml`, `xero`, `ubl`, ...) and the company file or
/// organisation in the accounting system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    /// Stable format name.
    pub format: String,
    /// Company (file, realm, organisation) in the accounting system.
    pub company: String,
}

impl Target {
    /// A target.
    pub fn new(format: impl Into<String>, company: impl Into<String>) -> Target {
        Target { format: format.into(), company: company.into() }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.format, self.company)
    }
}

/// The outcome an exporter reports for one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The target received the invoice.
    Exported,
    /// The invoice was deliberately not sent; it is done for this batch.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Sending failed; the invoice stays in the batch to be re-run.
    Failed {
        /// What went wrong, naming the field where possible.
        message: String,
    },
}

/// Where one invoice of an export batch stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ExportResult {
    /// Not attempted yet.
    #[default]
    NotYetStarted,
    /// Sent (or, with `bypass`, marked exported without a file).
    Exported {
        /// Marked exported without a file.
        bypass: bool,
    },
    /// Done without sending.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Attempted and failed; re-running the batch retries it.
    Failed {
        /// What went wrong.
        message: String,
    },
    /// Taken out of the batch before it was exported.
    Withdrawn,
}

impl ExportResult {
    /// True while the invoice still needs an attempt (not yet started, or failed).
    pub fn is_open(&self) -> bool {
        matches!(self, ExportResult::NotYetStarted | ExportResult::Failed { .. })
    }

    /// Stable name: `not_yet_started`, `exported`, `skipped`, `failed`, `withdrawn`.
    pub fn name(&self) -> &'static str {
        match self {
            ExportResult::NotYetStarted => "not_yet_started",
            ExportResult::Exported { .. } => "exported",
            ExportResult::Skipped { .. } => "skipped",
            ExportResult::Failed { .. } => "failed",
            ExportResult::Withdrawn => "withdrawn",
        }
    }
}

/// The life of an export batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Created; its invoices are still editable.
    Open,
    /// Posted; its invoices are locked and it can be exported.
    Posted,
    /// Every invoice is done (exported, skipped or withdrawn).
    Closed,
}

/// An export batch: an explicit selection sent to one target, with a result per invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportBatch {
    /// Id.
    pub id: BatchId,
    /// Where it goes.
    pub target: Target,
    /// The selection, in the order given.
    pub invoices: Vec<InvoiceId>,
    /// Result per invoice.
    pub results: BTreeMap<InvoiceId, ExportResult>,
    /// Open, posted or closed.
    pub state: BatchState,
    /// Reason given to force a re-export to the same target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_reason: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was last posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<DateTime<Utc>>,
}

impl ExportBatch {
    /// True once any invoice of the batch has a result (exported, skipped or failed).
    pub fn export_started(&self) -> bool {
        self.results.values().any(|r| !matches!(r, ExportResult::NotYetStarted | ExportResult::Withdrawn))
    }

    /// Stable name of the state, as errors report it.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            BatchState::Open => "open",
            BatchState::Posted if self.export_started() => "partly exported",
            BatchState::Posted => "posted",
            BatchState::Closed => "closed",
        }
    }

    /// Each invoice of the selection, in selection order, with its result (if the batch has
    /// one for it). A selection in id order (the usual case) is matched with the results in
    /// one walk; any other order looks each invoice up.
    ///
    /// ```
    /// use invoice_core::*;
    /// use rust_decimal_macros::dec;
    /// let mut book = Book::new(Settings::default());
    /// let admin = Actor::new("ana", Role::Administrator);
    /// let draft = Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR)
    ///     .line(Line::new("Work", dec!(1), dec!(10.00)))
    ///     .build();
    /// let id = book.create_invoice(&admin, draft)?;
    /// book.issue(&admin, id)?;
    /// let batch = book.create_export_batch(&admin, vec![id], Target::new("csv", "Demo"), None)?;
    /// let b = book.export_batch(batch)?;
    /// let all: Vec<_> = b.selection_results().collect();
    /// assert_eq!(all, vec![(id, Some(&ExportResult::NotYetStarted))]);
    /// # Ok::<(), invoice_core::Error>(())
    /// ```
    pub fn selection_results(&self) -> impl Iterator<Item = (InvoiceId, Option<&ExportResult>)> + '_ {
        let mut results = InOrder::new(&self.results, self.invoices.iter().copied());
        self.invoices.iter().map(move |id| (*id, results.get(*id)))
    }

    /// Count of invoices per result name.
    pub fn summary(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for r in self.results.values() {
            *out.entry(r.name()).or_insert(0) += 1;
        }
        out
    }
}

/// Looks up invoices in a batch's result map: when the ids asked for come in rising order
/// (the usual case), in one walk over the map; otherwise one lookup each.
pub(crate) struct InOrder<'a> {
    map: &'a BTreeMap<InvoiceId, ExportResult>,
    walk: Option<std::iter::Peekable<std::collections::btree_map::Range<'a, InvoiceId, ExportResult>>>,
}

impl<'a> InOrder<'a> {
    /// For the ids `ids` will be asked for, in that order.
    pub(crate) fn new(map: &'a BTreeMap<InvoiceId, ExportResult>, ids: impl Iterator<Item = InvoiceId>) -> Self {
        let mut ids = ids.peekable();
        let first = ids.peek().copied().unwrap_or(InvoiceId(0));
        let mut last = None;
        let rising = ids.all(|id| last.replace(id).is_none_or(|l| l < id));
        InOrder { map, walk: rising.then(|| map.range(first..).peekable()) }
    }

    /// The result of `id`, if the map has one.
    pub(crate) fn get(&mut self, id: InvoiceId) -> Option<&'a ExportResult> {
        let Some(walk) = &mut self.walk else { return self.map.get(&id) };
        while walk.next_if(|(k, _)| **k < id).is_some() {}
        walk.next_if(|(k, _)| **k == id).map(|(_, r)| r)
    }
}

/// What processing changed on one invoice, so that undo restores it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessedInvoice {
    /// The invoice.
    pub invoice: InvoiceId,
    /// Its accounting state before.
    pub before: Accounting,
    /// Its revision before.
    pub revision_before: u64,
    /// Its revision right after processing; undo requires it unchanged.
    pub revision_after: u64,
}

/// A process batch: the invoices whose import the accounting system confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessBatch {
    /// Id.
    pub id: BatchId,
    /// The invoices and their state before.
    pub invoices: Vec<ProcessedInvoice>,
    /// Who processed.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who undid it and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone: Option<(String, DateTime<Utc>)>,
}

/// A batch of either kind.
// Externally tagged: an internally tagged enum would buffer its content and lose the integer
// map keys of `ExportBatch::results` on the way back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Batch {
    /// Export batch.
    Export(ExportBatch),
    /// Process batch.
    Process(ProcessBatch),
}

impl Batch {
    /// The id.
    pub fn id(&self) -> BatchId {
        match self {
            Batch::Export(b) => b.id,
            Batch::Process(b) => b.id,
        }
    }
}

/// One export of one invoice to one target. The target, the actor and the reason are
/// shared by the entries of one export (a month end records hundreds of thousands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The invoice.
    pub invoice: InvoiceId,
    /// The target.
    pub target: Arc<Target>,
    /// The batch that exported it.
    pub batch: BatchId,
    /// [`Invoice::content_hash`](crate::Invoice::content_hash) of what was exported.
    pub content_hash: crate::ContentHash,
    /// Marked exported without a file.
    pub bypass: bool,
    /// The reason given when the export was forced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced: Option<Arc<str>>,
    /// Who exported it.
    pub actor: Arc<str>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The export ledger: every export of every invoice to every target, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<LedgerEntry>", into = "Vec<LedgerEntry>")]
pub struct Ledger {
    entries: Vec<LedgerEntry>,
    /// Per entry: the position of the previous entry of the same invoice and target, or
    /// [`NONE`].
    previous: Vec<usize>,
    /// Per target (a book has a handful): invoice -> position of its latest entry.
    index: Vec<(Arc<Target>, Latest)>,
}

/// No earlier entry.
const NONE: usize = usize::MAX;

/// Invoice -> position of its latest entry in [`Ledger::entries`], for one target.
type Latest = QuickMap<InvoiceId, usize>;

impl PartialEq for Ledger {
    fn eq(&self, other: &Ledger) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Ledger {}

impl From<Vec<LedgerEntry>> for Ledger {
    fn from(entries: Vec<LedgerEntry>) -> Ledger {
        let mut ledger = Ledger::default();
        for e in entries {
            ledger.push(e);
        }
        ledger
    }
}

impl From<Ledger> for Vec<LedgerEntry> {
    fn from(ledger: Ledger) -> Vec<LedgerEntry> {
        ledger.entries
    }
}

impl Ledger {
    /// Every entry, oldest first.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// The exports of `invoice` to `target`, oldest first.
    pub fn exports(&self, invoice: InvoiceId, target: &Target) -> impl Iterator<Item = &LedgerEntry> {
        let mut positions = Vec::new();
        let mut at = self.latest(invoice, target).unwrap_or(NONE);
        while at != NONE {
            positions.push(at);
            at = self.previous[at];
        }
        positions.into_iter().rev().map(|i| &self.entries[i])
    }

    /// The latest export of `invoice` to `target`.
    pub fn last_export(&self, invoice: InvoiceId, target: &Target) -> Option<&LedgerEntry> {
        self.latest(invoice, target).map(|i| &self.entries[i])
    }

    fn latest(&self, invoice: InvoiceId, target: &Target) -> Option<usize> {
        self.index.iter().find(|(t, _)| **t == *target).and_then(|(_, m)| m.get(&invoice)).copied()
    }

    /// Room for `more` entries of one target.
    pub(crate) fn reserve(&mut self, target: &Target, more: usize) {
        self.entries.reserve(more);
        self.previous.reserve(more);
        let k = self.target_index(target);
        self.index[k].1.reserve(more);
    }

    /// The position of `target` in the index, added when new.
    fn target_index(&mut self, target: &Target) -> usize {
        match self.index.iter().position(|(t, _)| **t == *target) {
            Some(k) => k,
            None => {
                self.index.push((Arc::new(target.clone()), Latest::default()));
                self.index.len() - 1
            }
        }
    }

    pub(crate) fn push(&mut self, mut entry: LedgerEntry) {
        let at = self.entries.len();
        // the same Arc as the previous entry's (one export), else the same target by value
        let k = match self.index.iter().position(|(t, _)| Arc::ptr_eq(t, &entry.target)) {
            Some(k) => k,
            None => match self.index.iter().position(|(t, _)| **t == *entry.target) {
                Some(k) => k,
                None => {
                    self.index.push((Arc::clone(&entry.target), Latest::default()));
                    self.index.len() - 1
                }
            },
        };
        let (known, latest) = &mut self.index[k];
        // one copy of each target, however the entry came (a loaded ledger has one per entry)
        entry.target = Arc::clone(known);
        self.previous.push(latest.insert(entry.invoice, at).unwrap_or(NONE));
        self.entries.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(invoices: &[u64], results: &[(u64, ExportResult)]) -> ExportBatch {
        ExportBatch {
            id: BatchId(1),
            target: Target::new("csv", "Demo"),
            invoices: invoices.iter().map(|i| InvoiceId(*i)).collect(),
            results: results.iter().map(|(i, r)| (InvoiceId(*i), r.clone())).collect(),
            state: BatchState::Open,
            force_reason: None,
            created_by: "ana".into(),
            created_at: DateTime::<Utc>::default(),
            posted_at: None,
        }
    }

    #[test]
    fn selection_results_match_a_lookup_in_any_order() {
        let open = ExportResult::NotYetStarted;
        let done = ExportResult::Exported { bypass: false };
        let results = [(2, open.clone()), (3, done.clone()), (5, open.clone()), (9, done.clone())];
        for selection in [&[2, 3, 5, 9][..], &[3, 2, 9, 5], &[1, 2, 4, 5, 10], &[9], &[], &[5, 5, 2], &[0, 3, 9, 11]] {
            let b = batch(selection, &results);
            let expected: Vec<_> = b.invoices.iter().map(|i| (*i, b.results.get(i))).collect();
            assert_eq!(b.selection_results().collect::<Vec<_>>(), expected, "{selection:?}");
        }
    }

    #[test]
    fn the_ledger_finds_every_export_of_an_invoice_oldest_first() {
        let entry = |invoice: u64, target: &str, batch: u64| LedgerEntry {
            invoice: InvoiceId(invoice),
            target: Arc::new(Target::new(target, "Demo")),
            batch: BatchId(batch),
            content_hash: crate::ContentHash([0; 32]),
            bypass: false,
            forced: None,
            actor: Arc::from("ana"),
            at: DateTime::<Utc>::default(),
        };
        let ledger = Ledger::from(vec![
            entry(1, "csv", 1),
            entry(2, "csv", 1),
            entry(1, "iif", 2),
            entry(1, "csv", 3),
            entry(1, "csv", 4),
        ]);
        let csv = Target::new("csv", "Demo");
        let batches: Vec<u64> = ledger.exports(InvoiceId(1), &csv).map(|e| e.batch.0).collect();
        assert_eq!(batches, [1, 3, 4]);
        assert_eq!(ledger.last_export(InvoiceId(1), &csv).map(|e| e.batch.0), Some(4));
        assert_eq!(ledger.exports(InvoiceId(2), &csv).count(), 1);
        assert_eq!(ledger.exports(InvoiceId(3), &csv).count(), 0);
        assert_eq!(ledger.exports(InvoiceId(1), &Target::new("iif", "Demo")).count(), 1);
        assert!(ledger.last_export(InvoiceId(1), &Target::new("xero", "Demo")).is_none());
    }
}
