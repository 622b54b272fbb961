//! The HTTP edge every response passes through: request ids, client
//! address, CORS, security headers and uniform problem responses. Each
//! concern has its own file; `app.rs` states the order they run in.

pub mod client_ip;
pub mod cors;
pub mod problem_fallback;
pub mod request_id;
pub mod security_headers;
