//! The domain core of invoice-engine: money, invoices, their four status axes, export and
//! process batches with exact undo, the export ledger, and the journal that every change goes
//! through. It does no I/O and knows no file format; the export and PDF crates read invoices
//! from it and hand back per-invoice results.
//!
//! # Example
//!
//! ```
//! use invoice_core::*;
//! use rust_decimal_macros::dec;
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap());
//! let mut book = Book::with_clock(Settings::default(), clock);
//! let admin = Actor::new("ana", Role::Administrator);
//!
//! // Draft, issue, send.
//! let invoice = Invoice::builder(Customer::new("C7", "Łukasz Nowak"), Currency::PLN)
//!     .project("PRJ-0042 ERP rollout")
//!     .billing_period(Period::new(
//!         NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
//!         NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
//!     ))
//!     .line(Line::new("Consulting", dec!(12.5), dec!(180.00)).tax_rate(dec!(0.23)))
//!     .build();
//! let id = book.create_invoice(&admin, invoice)?;
//! book.issue(&admin, id)?;
//! book.apply(&admin, Command::MarkSent { invoices: vec![id] })?;
//!
//! // Batch, post, export, process.
//! let batch = book.create_export_batch(&admin, vec![id], Target::new("qbxml", "Demo Co"), None)?;
//! book.apply(&admin, Command::Post { batch })?;
//! let work: Vec<InvoiceId> = book.export_work(batch)?.iter().map(|i| i.id).collect();
//! let results = work.into_iter().map(|i| (i, Outcome::Exported)).collect();
//! book.apply(&admin, Command::RecordExportResults { batch, results })?;
//! book.process(&admin, vec![id], 1)?;
//!
//! let inv = book.invoice(id)?;
//! assert_eq!(inv.status.accounting, Accounting::Processed);
//! assert_eq!(inv.totals()?.gross.to_string(), "2767.50");
//!
//! // Exporting it to the same target again needs force and a reason.
//! let again = book.create_export_batch(&admin, vec![id], Target::new("qbxml", "Demo Co"), None);
//! assert_eq!(again.unwrap_err().code(), "already_exported");
//! # Ok::<(), invoice_core::Error>(())
//! ```
//!
//! # Features
//!
//! - `proptest`: [proptest](https://docs.rs/proptest) strategies for currencies, lines,
//!   invoices and command sequences ([`testkit`]), for the property tests of this and other crates.
//!
//! # Main types
//!
//! - [`Book`]: the aggregate; [`Book::apply`] takes a [`Command`] and records [`Event`]s.
//! - [`Invoice`], [`Line`], [`Totals`], [`Status`] and its axes ([`Document`], [`Delivery`],
//!   [`Accounting`], [`Payment`]).
//! - [`Money`], [`Currency`], [`Rounding`]: exact money.
//! - [`ExportBatch`], [`ProcessBatch`], [`Ledger`]: batches and the export ledger.
//! - [`BacklogQuery`] and [`Book::project_report`]: the back-office views.
//! - [`Error`] and [`Violation`]: every failure with a stable code.
//! - [`safe_file_stem`] and [`UniqueNames`]: the file names of per-invoice files.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
pub mod book;
pub mod clock;
pub mod command;
pub mod cycle;
pub mod error;
pub mod hash;
pub mod invoice;
pub mod money;
pub mod names;
pub mod policy;
pub mod query;
pub mod status;
#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod testkit;

pub use batch::{
    Batch, BatchState, ExportBatch, ExportResult, Ledger, LedgerEntry, Outcome, ProcessBatch, ProcessedInvoice, Target,
};
pub use book::{Book, Series, Settings};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Change, Command, Envelope, Event, Generated, Issued, RecordedResult};
pub use error::{Error, Result, UndoRefusal, Violation, ViolationCode};
pub use invoice::{
    Attachment, BatchId, ContentHash, Customer, Invoice, InvoiceBuilder, InvoiceId, Kind, Line, LineKind, Origin,
    PaymentRecord, Period, TaxCategory, TaxGroup, Totals, NO_LINES_MESSAGE,
};
pub use money::{Currency, Money, Rounding, RoundingPolicy, TaxRounding};
pub use names::{safe_file_stem, UniqueNames};
pub use policy::{Action, Actor, Policy, Role};
pub use query::{BacklogQuery, Column, Group, GroupBy, Order, ProjectReport, Row, Subtotal};
pub use status::{Accounting, Axis, AxisState, Delivery, Document, Payment, Status};
