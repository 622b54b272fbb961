//! Routes of the `/api/v1` API, one module per resource.

pub mod auth;
pub mod documents;
pub mod extract;
pub mod health;
pub mod pagination;
pub mod workflows;
