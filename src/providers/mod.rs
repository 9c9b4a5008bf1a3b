//! Support services behind a narrow interface, with an in-house
//! implementation that works offline. Outsourced providers (an SMTP relay,
//! a payment processor, a carrier) are further variants of the same shape.

pub mod blob;
pub mod carrier;
pub mod mail;
pub mod payment;
