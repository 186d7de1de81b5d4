pub use invoice_core as core;
