//! invoice-engine: the back office of invoicing. This facade re-exports the engine's crates so
//! that an application depends on one package: [`core`] (`invoice-core`), whose main types are
//! also re-exported at the top level. The README follows.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use invoice_core as core;
pub use invoice_core::*;
