//! Login throttling. Failed attempts are counted per account and per
//! client address over a sliding window. Once either count reaches the
//! limit, logins for that account or from that address are refused with
//! a `Retry-After` until the oldest failure leaves the window.
//!
//! An attempt is counted from the moment it starts, not when its password
//! check fails, because that check takes tens of milliseconds. Counting
//! only finished failures would let a burst of parallel guesses all pass
//! the gate before the first of them was recorded.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keys kept before idle ones are swept, so a flood of distinct emails or
/// addresses cannot grow memory without bound.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Default)]
struct Counter {
    /// Unix seconds of recent failures, oldest first.
    failures: VecDeque<i64>,
    /// Attempts whose password check has not finished yet.
    in_flight: usize,
}

impl Counter {
    fn prune(&mut self, cutoff: i64) {
        while self.failures.front().is_some_and(|&time| time <= cutoff) {
            self.failures.pop_front();
        }
    }

    fn is_idle(&self) -> bool {
        self.failures.is_empty() && self.in_flight == 0
    }
}

struct Inner {
    max_failures: usize,
    window_seconds: i64,
    counters: Mutex<HashMap<String, Counter>>,
}

// NOTE: counts live in this process's memory, so several instances behind
// a load balancer each allow the limit. Sticky routing or a shared store is
// needed before such a deployment relies on the exact figure.
#[derive(Clone)]
pub struct LoginThrottle {
    inner: Arc<Inner>,
}

/// A login attempt in progress. Dropping it without an outcome (the client
/// went away) releases its place without counting a failure.
pub struct Attempt {
    inner: Arc<Inner>,
    keys: [String; 2],
    now: i64,
    settled: bool,
}

fn keys(email: &str, ip: IpAddr) -> [String; 2] {
    [format!("account:{email}"), format!("address:{ip}")]
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                max_failures: usize::try_from(max_failures).unwrap_or(usize::MAX),
                window_seconds: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
                counters: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Starts an attempt for `email` from `ip` at `now` (Unix seconds), or
    /// returns the seconds to wait when the account or the address already
    /// has as many failures and attempts in progress as the limit allows.
    pub fn begin(&self, email: &str, ip: IpAddr, now: i64) -> Result<Attempt, u64> {
        let inner = &self.inner;
        let mut counters = inner.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let cutoff = now - inner.window_seconds;
        if counters.len() >= SWEEP_THRESHOLD {
            counters.retain(|_, counter| {
                counter.prune(cutoff);
                !counter.is_idle()
            });
        }

        let keys = keys(email, ip);
        let mut wait: Option<i64> = None;
        for key in &keys {
            let Some(counter) = counters.get_mut(key) else { continue };
            counter.prune(cutoff);
            if counter.failures.len() + counter.in_flight >= inner.max_failures {
                // With only attempts in flight, one of them may still fail
                // and start the window now, so that is the earliest retry.
                let oldest = counter.failures.front().copied().unwrap_or(now);
                let seconds = (oldest + inner.window_seconds - now).max(1);
                wait = Some(wait.map_or(seconds, |current| current.max(seconds)));
            }
        }
        if let Some(seconds) = wait {
            return Err(u64::try_from(seconds).unwrap_or(1));
        }

        for key in &keys {
            counters.entry(key.clone()).or_default().in_flight += 1;
        }
        Ok(Attempt {
            inner: inner.clone(),
            keys,
            now,
            settled: false,
        })
    }
}

impl Attempt {
    /// Counts the attempt as a failure against the account and the address.
    pub fn failed(mut self) {
        self.settle(|counter, _, now, max| {
            counter.failures.push_back(now);
            // Only the newest `max` failures matter for the decision.
            while counter.failures.len() > max {
                counter.failures.pop_front();
            }
        });
    }

    /// Ends the attempt as a success: the account's count is cleared. The
    /// address keeps its count, so one valid account cannot launder guesses
    /// at others.
    pub fn succeeded(mut self) {
        self.settle(|counter, key_index, _, _| {
            if key_index == 0 {
                counter.failures.clear();
            }
        });
    }

    /// Releases the attempt's place under both keys and applies `outcome`
    /// to each counter; `key_index` 0 is the account, 1 the address.
    fn settle(&mut self, outcome: impl Fn(&mut Counter, usize, i64, usize)) {
        if self.settled {
            return;
        }
        self.settled = true;
        let mut counters = self.inner.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key_index, key) in self.keys.iter().enumerate() {
            if let Some(counter) = counters.get_mut(key) {
                counter.in_flight = counter.in_flight.saturating_sub(1);
                outcome(counter, key_index, self.now, self.inner.max_failures);
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.settle(|_, _, _, _| {});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn throttles_after_limit_and_expires() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        for second in 0..3 {
            throttle.begin("a@x.test", IP, second).unwrap().failed();
        }
        assert_eq!(throttle.begin("a@x.test", IP, 3).err(), Some(57));
        assert!(throttle.begin("a@x.test", IP, 61).is_ok());
    }

    #[test]
    fn parallel_attempts_count_before_they_finish() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        let held: Vec<Attempt> = (0..3).map(|_| throttle.begin("a@x.test", IP, 0).unwrap()).collect();
        assert!(throttle.begin("a@x.test", IP, 0).is_err(), "a fourth parallel attempt got through");
        drop(held);
        assert!(throttle.begin("a@x.test", IP, 0).is_ok(), "abandoned attempts still counted");
    }

    #[test]
    fn success_clears_account_not_address() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(60));
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        throttle.begin("b@x.test", address, 0).unwrap().failed();
        throttle.begin("b@x.test", address, 0).unwrap().succeeded();

        // The account starts over from another address...
        let elsewhere: IpAddr = "192.0.2.2".parse().unwrap();
        throttle.begin("b@x.test", elsewhere, 1).unwrap().failed();
        assert!(throttle.begin("b@x.test", elsewhere, 1).is_ok());

        // ...but the address keeps its failure: one more reaches the limit.
        throttle.begin("c@x.test", address, 1).unwrap().failed();
        assert!(throttle.begin("d@x.test", address, 1).is_err(), "address count was cleared");
    }
}
