//! invoice-engine: the back office of invoicing. This facade re-exports the engine's crates so
//! that an application depends on one package: [`core`] (`invoice-core`, whose main types are
//! also re-exported at the top level), [`export`] (`invoice-export`) and [`pdf`]
//! (`invoice-pdf`). The README follows.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use invoice_core as core;
pub use invoice_core::*;

pub use invoice_export as export;
pub use invoice_pdf as pdf;

pub mod batch_export;
pub mod documents;
pub mod interchange;
