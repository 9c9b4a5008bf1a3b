//! Background workers. Each runs until the shutdown signal, takes its work
//! from the database (so any number of nodes can run them), and finishes
//! the item in hand before stopping.

pub mod housekeeping;
pub mod jobs;
pub mod mail;
pub mod memory;
pub mod reservations;
pub mod search;
pub mod webhooks;
