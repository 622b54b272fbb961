//! Login throttling: failed attempts are counted per account and per
//! client address over a sliding window; once either count reaches the
//! limit, logins for that account or from that address are refused with
//! a `Retry-After` until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// Keys kept before idle ones are swept, so a flood of distinct emails or
/// addresses cannot grow memory without bound.
const SWEEP_THRESHOLD: usize = 10_000;

// NOTE: counts live in this process's memory, so several instances behind
// a load balancer each allow the limit; sticky routing or a shared store is
// needed before such a deployment relies on the exact figure.
pub struct LoginThrottle {
    max_failures: usize,
    window_seconds: i64,
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: usize::try_from(max_failures).unwrap_or(usize::MAX),
            window_seconds: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, ip: IpAddr) -> [String; 2] {
        [format!("account:{email}"), format!("address:{ip}")]
    }

    /// Returns the seconds to wait when the account or the address is
    /// throttled at `now` (Unix seconds), or `None` when a login may be tried.
    pub fn retry_after(&self, email: &str, ip: IpAddr, now: i64) -> Option<u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut wait: Option<i64> = None;
        for key in Self::keys(email, ip) {
            let Some(times) = failures.get_mut(&key) else { continue };
            prune(times, now - self.window_seconds);
            if times.len() >= self.max_failures {
                if let Some(oldest) = times.front() {
                    let seconds = (oldest + self.window_seconds - now).max(1);
                    wait = Some(wait.map_or(seconds, |current| current.max(seconds)));
                }
            }
        }
        wait.map(|seconds| u64::try_from(seconds).unwrap_or(1))
    }

    /// Counts a failed login against the account and the address.
    pub fn record_failure(&self, email: &str, ip: IpAddr, now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= SWEEP_THRESHOLD {
            let cutoff = now - self.window_seconds;
            failures.retain(|_, times| {
                prune(times, cutoff);
                !times.is_empty()
            });
        }
        for key in Self::keys(email, ip) {
            let times = failures.entry(key).or_default();
            times.push_back(now);
            // Only the newest `max_failures` matter for the decision.
            while times.len() > self.max_failures {
                times.pop_front();
            }
        }
    }

    /// Clears the account's count after a successful login. The address
    /// keeps its count so one valid account cannot launder guesses at others.
    pub fn record_success(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&format!("account:{email}"));
    }
}

fn prune(times: &mut VecDeque<i64>, cutoff: i64) {
    while times.front().is_some_and(|&time| time <= cutoff) {
        times.pop_front();
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
            assert_eq!(throttle.retry_after("a@x.test", IP, second), None);
            throttle.record_failure("a@x.test", IP, second);
        }
        assert_eq!(throttle.retry_after("a@x.test", IP, 3), Some(57));
        assert_eq!(throttle.retry_after("a@x.test", IP, 61), None);
    }

    #[test]
    fn success_clears_account_not_address() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(60));
        throttle.record_failure("a@x.test", IP, 0);
        throttle.record_failure("a@x.test", IP, 0);
        throttle.record_success("a@x.test");
        let other_ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(throttle.retry_after("a@x.test", other_ip, 1), None);
        assert!(throttle.retry_after("b@x.test", IP, 1).is_some());
    }
}
