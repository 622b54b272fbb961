//! Integration tests: each starts a real kraftd on a loopback port with a
//! temporary data folder and talks to it over HTTP.

mod helpers;

mod accounts;
mod audit;
mod cli;
mod documents;
mod edge;
mod keys;
mod secrets;
mod throttle;
mod tokens;
mod workflows;
