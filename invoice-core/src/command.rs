//! Commands (what an actor asks the book to do) and the events they produce (what happened).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use rust_decimal::Decimal;

use crate::batch::{Outcome, Target};
use crate::book::Settings;
use crate::cycle::{Billed, DeferredItem, EntryId, Expense, ExpenseId, Milestone, Person, Project, TimeEntry};
use crate::invoice::{Attachment, BatchId, Customer, Invoice, InvoiceId, Kind, Line, Origin, PaymentRecord, Period};
use crate::money::{Currency, RoundingPolicy};
use crate::policy::{Action, Actor};
use crate::status::Delivery;

/// One change to an invoice's content, as an edit carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum Change {
    /// Replace the customer.
    Customer(Customer),
    /// Set or clear the project.
    Project(Option<String>),
    /// Set or clear the office/location (allowed on posted invoices).
    Location(Option<String>),
    /// Set or clear the invoice type (allowed on posted invoices).
    InvoiceType(Option<String>),
    /// Set or clear the billing period.
    BillingPeriod(Option<Period>),
    /// Set or clear the issue date.
    IssueDate(Option<NaiveDate>),
    /// Set or clear the due date.
    DueDate(Option<NaiveDate>),
    /// Change the currency.
    Currency(Currency),
    /// Replace the lines.
    Lines(Vec<Line>),
    /// Replace the memo.
    Memo(String),
    /// Replace the attachment references.
    Attachments(Vec<Attachment>),
    /// Set or clear the signed document.
    SignedDocument(Option<Attachment>),
    /// Change the kind (drafts only).
    Kind(Kind),
    /// Change the origin.
    Origin(Origin),
    /// Change the rounding.
    Rounding(RoundingPolicy),
}

impl Change {
    /// The field the change touches, as errors name it.
    pub fn field(&self) -> &'static str {
        match self {
            Change::Customer(_) => "customer",
            Change::Project(_) => "project",
            Change::Location(_) => "location",
            Change::InvoiceType(_) => "invoice_type",
            Change::BillingPeriod(_) => "billing_period",
            Change::IssueDate(_) => "issue_date",
            Change::DueDate(_) => "due_date",
            Change::Currency(_) => "currency",
            Change::Lines(_) => "lines",
            Change::Memo(_) => "memo",
            Change::Attachments(_) => "attachments",
            Change::SignedDocument(_) => "signed_document",
            Change::Kind(_) => "kind",
            Change::Origin(_) => "origin",
            Change::Rounding(_) => "rounding",
        }
    }

    /// True for the fields that may still change once the invoice is posted.
    pub fn allowed_when_posted(&self) -> bool {
        matches!(self, Change::Location(_) | Change::InvoiceType(_))
    }

    /// The change with zero values given a positive sign (see [`Line::normalize_zeros`]).
    pub(crate) fn normalized(self) -> Change {
        match self {
            Change::Lines(mut v) => {
                v.iter_mut().for_each(Line::normalize_zeros);
                Change::Lines(v)
            }
            other => other,
        }
    }

    pub(crate) fn apply(&self, invoice: &mut Invoice) {
        match self.clone() {
            Change::Customer(v) => invoice.customer = v,
            Change::Project(v) => invoice.project = v,
            Change::Location(v) => invoice.location = v,
            Change::InvoiceType(v) => invoice.invoice_type = v,
            Change::BillingPeriod(v) => invoice.billing_period = v,
            Change::IssueDate(v) => invoice.issue_date = v,
            Change::DueDate(v) => invoice.due_date = v,
            Change::Currency(v) => invoice.currency = v,
            Change::Lines(v) => invoice.lines = v,
            Change::Memo(v) => invoice.memo = v,
            Change::Attachments(v) => invoice.attachments = v,
            Change::SignedDocument(v) => invoice.signed_document = v,
            Change::Kind(v) => invoice.kind = v,
            Change::Origin(v) => invoice.origin = v,
            Change::Rounding(v) => invoice.rounding = v,
        }
    }
}

/// Something an actor asks the book to do. Every command is checked against the policy, then
/// either refused with an error (nothing changes) or turned into events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Add draft invoices (built with [`Invoice::builder`]); ids are assigned in order.
    CreateInvoices {
        /// The drafts.
        invoices: Vec<Invoice>,
    },
    /// Change the content of an invoice, within the edit rules of its accounting state.
    Edit {
        /// The invoice.
        invoice: InvoiceId,
        /// The changes, applied in order.
        changes: Vec<Change>,
    },
    /// Issue drafts: check them, give them their numbers and issue dates.
    Issue {
        /// The drafts.
        invoices: Vec<InvoiceId>,
    },
    /// Void an invoice that was neither exported nor paid; it keeps its number.
    Void {
        /// The invoice.
        invoice: InvoiceId,
        /// Why.
        reason: String,
    },
    /// Mark issued invoices ready to send.
    MarkReadyToSend {
        /// The invoices.
        invoices: Vec<InvoiceId>,
    },
    /// Mark issued invoices sent.
    MarkSent {
        /// The invoices.
        invoices: Vec<InvoiceId>,
    },
    /// Record a payment.
    RecordPayment {
        /// The invoice.
        invoice: InvoiceId,
        /// The payment.
        payment: PaymentRecord,
    },
    /// Create a draft credit note for an issued invoice (its lines, or the lines given).
    CreateCreditNote {
        /// The invoice credited.
        credits: InvoiceId,
        /// Lines to credit; all of the invoice's lines when absent.
        lines: Option<Vec<Line>>,
    },
    /// Create a draft adjustment invoice correcting an exported invoice.
    CreateAdjustment {
        /// The invoice corrected.
        corrects: InvoiceId,
        /// The correcting lines.
        lines: Vec<Line>,
    },
    /// Create an export batch from an explicit selection.
    CreateExportBatch {
        /// The selection (at least one invoice).
        invoices: Vec<InvoiceId>,
        /// Where it goes.
        target: Target,
        /// To export invoices to a target that already has them: the reason.
        force: Option<String>,
    },
    /// Discard an open (unposted) export batch; its invoices return to pending.
    DiscardBatch {
        /// The batch.
        batch: BatchId,
    },
    /// Post an open export batch: its invoices are locked.
    Post {
        /// The batch.
        batch: BatchId,
    },
    /// Unpost a posted batch before any export result was recorded.
    Unpost {
        /// The batch.
        batch: BatchId,
    },
    /// Record what the exporter did with each invoice of a posted batch. Invoices without
    /// lines are recorded as skipped ("Invoice has no lines - not sent") whatever was reported.
    RecordExportResults {
        /// The batch.
        batch: BatchId,
        /// Outcome per invoice.
        results: Vec<(InvoiceId, Outcome)>,
    },
    /// Mark every remaining invoice of a posted batch exported without writing a file.
    MarkExported {
        /// The batch.
        batch: BatchId,
    },
    /// Take invoices that are not exported yet (or failed) out of a batch.
    Withdraw {
        /// The batch.
        batch: BatchId,
        /// The invoices.
        invoices: Vec<InvoiceId>,
    },
    /// Confirm the import of exported invoices; `expected` must equal the selection's size.
    Process {
        /// The selection.
        invoices: Vec<InvoiceId>,
        /// How many the user expects to process.
        expected: usize,
    },
    /// Undo a process batch; only the last one in effect, and only if none of its invoices changed.
    UndoProcess {
        /// The batch.
        batch: BatchId,
    },
    /// Un-process one invoice on its own.
    Unprocess {
        /// The invoice.
        invoice: InvoiceId,
    },
    /// Record the accounting system's reference number.
    RecordReference {
        /// The invoice.
        invoice: InvoiceId,
        /// The reference.
        reference: String,
    },
    /// Add or replace a project (schedule, members, approvers ...).
    SaveProject {
        /// The project.
        project: Box<Project>,
    },
    /// Add or rename a person (their locked-until date is kept).
    SavePerson {
        /// The person.
        person: Person,
    },
    /// Turn approval flows on or off.
    SetApprovalFlows {
        /// On or off.
        on: bool,
    },
    /// Record time entries (consultants only their own), after the person's locked-until date.
    RecordTime {
        /// The entries; ids are assigned in order.
        entries: Vec<TimeEntry>,
    },
    /// Change an open, unbilled time entry.
    EditTime {
        /// The entry.
        entry: EntryId,
        /// New hours.
        hours: Decimal,
        /// New rate.
        rate: Decimal,
        /// New task.
        task: String,
    },
    /// Lock (submit) a person's time up to and including `until`.
    LockTime {
        /// The person.
        person: String,
        /// The last locked day.
        until: NaiveDate,
    },
    /// Approve locked time entries (project managers: of their projects).
    ApproveTime {
        /// The entries.
        entries: Vec<EntryId>,
    },
    /// Record expenses.
    RecordExpenses {
        /// The expenses; ids are assigned in order.
        expenses: Vec<Expense>,
    },
    /// Submit open expenses.
    SubmitExpenses {
        /// The expenses.
        expenses: Vec<ExpenseId>,
    },
    /// Approve submitted expenses.
    ApproveExpenses {
        /// The expenses.
        expenses: Vec<ExpenseId>,
    },
    /// Add or replace an unbilled milestone.
    SaveMilestone {
        /// The milestone.
        milestone: Milestone,
    },
    /// Approve a milestone for billing.
    ApproveMilestone {
        /// Its id.
        milestone: String,
    },
    /// Add or replace an unbilled deferred-revenue (down-payment) item.
    SaveDeferredItem {
        /// The item.
        item: DeferredItem,
    },
    /// Generate the invoices of every ready project (or of the projects named) for the
    /// periods whose scheduled invoice date falls in `window` and has come (book clock).
    Generate {
        /// Invoice dates to cover.
        window: Period,
        /// Only these projects (empty: all).
        projects: Vec<String>,
    },
}

impl Command {
    /// The policy action the command needs.
    pub fn action(&self) -> Action {
        match self {
            Command::CreateInvoices { .. }
            | Command::Edit { .. }
            | Command::CreateCreditNote { .. }
            | Command::CreateAdjustment { .. } => Action::EditInvoices,
            Command::Issue { .. } => Action::Issue,
            Command::Void { .. } => Action::Void,
            Command::MarkReadyToSend { .. } | Command::MarkSent { .. } => Action::Deliver,
            Command::RecordPayment { .. } => Action::RecordPayments,
            Command::CreateExportBatch { .. } | Command::DiscardBatch { .. } => Action::Batch,
            Command::Post { .. } | Command::Unpost { .. } => Action::Post,
            Command::RecordExportResults { .. } | Command::MarkExported { .. } | Command::Withdraw { .. } => {
                Action::Export
            }
            Command::Process { .. } | Command::Unprocess { .. } => Action::Process,
            Command::UndoProcess { .. } => Action::Undo,
            Command::RecordReference { .. } => Action::RecordReference,
            Command::SaveProject { .. }
            | Command::SavePerson { .. }
            | Command::SetApprovalFlows { .. }
            | Command::SaveMilestone { .. }
            | Command::SaveDeferredItem { .. } => Action::ManageProjects,
            Command::RecordTime { .. }
            | Command::EditTime { .. }
            | Command::LockTime { .. }
            | Command::RecordExpenses { .. }
            | Command::SubmitExpenses { .. } => Action::SubmitTime,
            Command::ApproveTime { .. } | Command::ApproveExpenses { .. } | Command::ApproveMilestone { .. } => {
                Action::ApproveTime
            }
            Command::Generate { .. } => Action::Generate,
        }
    }
}

/// The result recorded for one invoice by [`Event::ExportResultsRecorded`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResult {
    /// The invoice.
    pub invoice: InvoiceId,
    /// What happened.
    pub outcome: Outcome,
    /// Content hash of the invoice, for exported ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<crate::ContentHash>,
}

/// Something that happened to the book. Events are the only way its state changes; applying
/// the journal's events in order to an empty book rebuilds it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The book was opened with these settings (always the first event).
    BookOpened {
        /// The settings.
        settings: Box<Settings>,
    },
    /// Drafts were added; `first` is the id of the first, the others follow in order.
    InvoicesCreated {
        /// Id of the first invoice.
        first: InvoiceId,
        /// The drafts.
        invoices: Vec<Invoice>,
    },
    /// An invoice's content changed.
    InvoiceEdited {
        /// The invoice.
        invoice: InvoiceId,
        /// The changes.
        changes: Vec<Change>,
    },
    /// Invoices were issued with these numbers and dates.
    InvoicesIssued {
        /// (invoice, number, issue date, series advanced if the number came from one).
        issued: Vec<Issued>,
    },
    /// An invoice was voided.
    InvoiceVoided {
        /// The invoice.
        invoice: InvoiceId,
        /// Why.
        reason: String,
    },
    /// Invoices moved on the delivery axis.
    DeliveryMarked {
        /// The invoices.
        invoices: Vec<InvoiceId>,
        /// The new state.
        to: Delivery,
    },
    /// A payment was recorded.
    PaymentRecorded {
        /// The invoice.
        invoice: InvoiceId,
        /// The payment.
        payment: PaymentRecord,
    },
    /// An export batch was created.
    ExportBatchCreated {
        /// Its id.
        batch: BatchId,
        /// Target.
        target: Target,
        /// Selection.
        invoices: Vec<InvoiceId>,
        /// Reason for a forced re-export.
        force: Option<String>,
    },
    /// A batch was posted.
    BatchPosted {
        /// The batch.
        batch: BatchId,
    },
    /// A batch was unposted.
    BatchUnposted {
        /// The batch.
        batch: BatchId,
    },
    /// Export results were recorded.
    ExportResultsRecorded {
        /// The batch.
        batch: BatchId,
        /// Per invoice.
        results: Vec<RecordedResult>,
        /// Marked exported without a file.
        bypass: bool,
    },
    /// Invoices were withdrawn from a batch (all of them when the batch was discarded).
    InvoicesWithdrawn {
        /// The batch.
        batch: BatchId,
        /// The invoices.
        invoices: Vec<InvoiceId>,
    },
    /// Invoices were processed.
    ProcessBatchCreated {
        /// The batch id.
        batch: BatchId,
        /// The invoices.
        invoices: Vec<InvoiceId>,
    },
    /// A process batch was undone.
    ProcessBatchUndone {
        /// The batch.
        batch: BatchId,
    },
    /// One invoice was un-processed.
    InvoiceUnprocessed {
        /// The invoice.
        invoice: InvoiceId,
    },
    /// The accounting system's reference was recorded.
    ReferenceRecorded {
        /// The invoice.
        invoice: InvoiceId,
        /// The reference.
        reference: String,
    },
    /// A project was added or replaced.
    ProjectSaved {
        /// The project.
        project: Box<Project>,
    },
    /// A person was added or renamed.
    PersonSaved {
        /// The person.
        person: Person,
    },
    /// Approval flows were turned on or off.
    ApprovalFlowsSet {
        /// On or off.
        on: bool,
    },
    /// Time entries were recorded; `first` is the id of the first.
    TimeRecorded {
        /// Id of the first entry.
        first: EntryId,
        /// The entries.
        entries: Vec<TimeEntry>,
    },
    /// A time entry changed.
    TimeEdited {
        /// The entry.
        entry: EntryId,
        /// Hours.
        hours: Decimal,
        /// Rate.
        rate: Decimal,
        /// Task.
        task: String,
    },
    /// A person locked their time up to a day.
    TimeLocked {
        /// The person.
        person: String,
        /// The last locked day.
        until: NaiveDate,
    },
    /// Time entries were approved.
    TimeApproved {
        /// The entries.
        entries: Vec<EntryId>,
    },
    /// Expenses were recorded; `first` is the id of the first.
    ExpensesRecorded {
        /// Id of the first.
        first: ExpenseId,
        /// The expenses.
        expenses: Vec<Expense>,
    },
    /// Expenses were submitted.
    ExpensesSubmitted {
        /// The expenses.
        expenses: Vec<ExpenseId>,
    },
    /// Expenses were approved.
    ExpensesApproved {
        /// The expenses.
        expenses: Vec<ExpenseId>,
    },
    /// A milestone was added or replaced.
    MilestoneSaved {
        /// The milestone.
        milestone: Milestone,
    },
    /// A milestone was approved.
    MilestoneApproved {
        /// Its id.
        milestone: String,
    },
    /// A deferred-revenue item was added or replaced.
    DeferredItemSaved {
        /// The item.
        item: DeferredItem,
    },
    /// Invoices were generated (issued and ready to send) from the cycle's data.
    InvoicesGenerated {
        /// Id of the first invoice; the others follow.
        first: InvoiceId,
        /// The invoices with what each billed.
        generated: Vec<Generated>,
    },
}

impl Event {
    /// Whether applying this event may change what an invoice *says* (its number, dates,
    /// customer, lines, amounts and texts), as opposed to where it stands in its lifecycle
    /// (batches, posting, export results, processing, delivery, payments) or to data that is
    /// not an invoice (projects, time, expenses). Exporters and renderers only read what an
    /// invoice says, so output made before a run of events that all return `false` is still
    /// the output after them. New invoices (created or generated) do not change existing ones.
    pub fn may_change_invoice_content(&self) -> bool {
        match self {
            Event::BookOpened { .. }
            | Event::InvoiceEdited { .. }
            | Event::InvoicesIssued { .. }
            | Event::InvoiceVoided { .. }
            | Event::ReferenceRecorded { .. } => true,
            Event::InvoicesCreated { .. }
            | Event::DeliveryMarked { .. }
            | Event::PaymentRecorded { .. }
            | Event::ExportBatchCreated { .. }
            | Event::BatchPosted { .. }
            | Event::BatchUnposted { .. }
            | Event::ExportResultsRecorded { .. }
            | Event::InvoicesWithdrawn { .. }
            | Event::ProcessBatchCreated { .. }
            | Event::ProcessBatchUndone { .. }
            | Event::InvoiceUnprocessed { .. }
            | Event::ProjectSaved { .. }
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
            | Event::InvoicesGenerated { .. } => false,
        }
    }
}

/// One invoice of [`Event::InvoicesGenerated`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    /// The invoice, issued and ready to send.
    pub invoice: Invoice,
    /// The numbering series it advanced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// What it billed.
    pub billed: Billed,
}

/// One issued invoice in [`Event::InvoicesIssued`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// The invoice.
    pub invoice: InvoiceId,
    /// Its number.
    pub number: String,
    /// Its issue date.
    pub issue_date: NaiveDate,
    /// The series the number was drawn from (none for numbers brought along).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
}

/// An event with its sequence number, time and actor: one line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// 1-based position in the journal.
    pub seq: u64,
    /// When (from the book's clock).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    #[serde(flatten)]
    pub event: Event,
}
