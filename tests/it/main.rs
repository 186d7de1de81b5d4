//! Integration tests of invoice-engine: one binary, one module per area.

mod backlog;
mod common;
mod cycle;
mod cycle_props;
mod journal;
mod lifecycle;
mod month_end;
mod props;
mod refusals;
