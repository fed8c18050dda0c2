//! Retry waits shared by every step that retries (agent, api_call): the wait before attempt `k`
//! (k ≥ 2) is `backoff × 2^(k−2)` seconds with ±20 % jitter; a server's `Retry-After` wins, and no
//! wait exceeds the step timeout.

use std::time::Duration;

/// How a step retries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The base wait (before attempt 2). Zero means no wait.
    pub base: Duration,
    /// Upper bound for any single wait (the step timeout).
    pub cap: Duration,
}

impl Backoff {
    /// The wait before `attempt` (1-based; attempt 1 never waits).
    pub fn wait_before(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        if let Some(server) = retry_after {
            return server.min(self.cap);
        }
        if self.base.is_zero() {
            return Duration::ZERO;
        }
        let exp = 2f64.powi(attempt.saturating_sub(2).min(30) as i32);
        let jitter = 0.8 + 0.4 * fastrand::f64();
        let secs = self.base.as_secs_f64() * exp * jitter;
        Duration::from_secs_f64(secs.min(self.cap.as_secs_f64()))
    }
}

/// Parses an HTTP `Retry-After` value: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_with_jitter_and_cap() {
        let b = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        };
        assert_eq!(b.wait_before(1, None), Duration::ZERO);
        for (attempt, nominal) in [(2, 1.0), (3, 2.0), (4, 4.0)] {
            let w = b.wait_before(attempt, None).as_secs_f64();
            assert!(
                w >= nominal * 0.8 - 1e-9 && w <= nominal * 1.2 + 1e-9,
                "attempt {attempt}: {w}"
            );
        }
        let capped = Backoff {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(3),
        };
        assert_eq!(capped.wait_before(5, None), Duration::from_secs(3));
        assert_eq!(
            capped.wait_before(2, Some(Duration::from_secs(100))),
            Duration::from_secs(3)
        );
        assert_eq!(
            b.wait_before(2, Some(Duration::from_millis(5))),
            Duration::from_millis(5)
        );
        let none = Backoff {
            base: Duration::ZERO,
            cap: Duration::from_secs(3),
        };
        assert_eq!(none.wait_before(3, None), Duration::ZERO);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
