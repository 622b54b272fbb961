//! kraftd: a document-intake API server for procurement teams.
//!
//! `app` builds the application from a [`config::Config`] and `server`
//! runs it. `http` contains the routes and `edge` the layers every response
//! passes. `auth` covers passwords and tokens, `documents` upload handling
//! and storage, `store` the database, and `audit` the tamper-evident log.

#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod blocking;
pub mod cli;
pub mod commands;
pub mod config;
pub mod documents;
pub mod edge;
pub mod error;
pub mod http;
pub mod maintenance;
pub mod operator;
pub mod secrets;
pub mod server;
pub mod state;
pub mod store;
pub mod testing;
pub mod timefmt;
pub mod verify;
