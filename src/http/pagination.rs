//! `page` / `per_page` query parameters and the `X-Total-Count` /
//! `X-Total-Pages` headers of every listing.

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use crate::error::{ApiError, FieldError};

pub const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 20;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u32,
}

impl PageRequest {
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(u64::from(self.per_page))
    }
}

impl PageQuery {
    /// Checks the query: `page` from 1, `per_page` from 1 to 100.
    pub fn validate(query: Result<Query<PageQuery>, QueryRejection>) -> Result<PageRequest, ApiError> {
        let Ok(Query(query)) = query else {
            return Err(ApiError::invalid_field("query", "is not a valid query string"));
        };
        let mut errors = Vec::new();
        let page = match query.page.as_deref().map(str::parse::<u64>) {
            None => 1,
            Some(Ok(page)) if (1..=1_000_000_000).contains(&page) => page,
            Some(_) => {
                errors.push(FieldError::new("page", "must be a whole number from 1"));
                1
            }
        };
        let per_page = match query.per_page.as_deref().map(str::parse::<u32>) {
            None => DEFAULT_PER_PAGE,
            Some(Ok(per_page)) if (1..=MAX_PER_PAGE).contains(&per_page) => per_page,
            Some(_) => {
                errors.push(FieldError::new("per_page", "must be a whole number from 1 to 100"));
                DEFAULT_PER_PAGE
            }
        };
        if errors.is_empty() {
            Ok(PageRequest { page, per_page })
        } else {
            Err(ApiError::InvalidRequest(errors))
        }
    }
}

pub fn page_headers(total: u64, per_page: u32) -> HeaderMap {
    let pages = total.div_ceil(u64::from(per_page));
    let mut headers = HeaderMap::new();
    headers.insert(HeaderName::from_static("x-total-count"), HeaderValue::from(total));
    headers.insert(HeaderName::from_static("x-total-pages"), HeaderValue::from(pages));
    headers
}
