//! Deadlines on tokio's clock, for loops that wait on a timer only some of
//! the time (an idle timeout that may be off, a grace period not started yet).

use std::time::Duration;

use tokio::time::Instant;

/// Resolves at `deadline`; never when there is none, so a `select!` arm on
/// it is simply never taken.
pub async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// `after` from now, or `None` when that is past what the clock can hold:
/// `--idle-timeout 10000000000000000000` means "never", not a panic
/// ("overflow when adding duration to instant") in every connection.
pub fn deadline_after(after: Duration) -> Option<Instant> {
    Instant::now().checked_add(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_past_the_clock_is_no_deadline() {
        assert!(deadline_after(Duration::from_secs(10_000_000_000_000_000_000)).is_none());
        assert!(deadline_after(Duration::MAX).is_none());
        let soon = deadline_after(Duration::from_secs(1)).unwrap();
        assert!(soon > Instant::now());
    }

    #[tokio::test]
    async fn no_deadline_never_resolves_and_a_deadline_does() {
        let never = tokio::time::timeout(Duration::from_millis(20), sleep_until(None)).await;
        assert!(never.is_err());
        let start = Instant::now();
        sleep_until(Some(start + Duration::from_millis(5))).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
    }
}
