//! A moment to stop waiting, or none: what every loop that waits for
//! "frames, or the work, or the grace time" selects on.

use std::time::Duration;

use tokio::time::Instant;

/// A point in time to wait for, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: [`Deadline::reached`] never completes.
    pub const NEVER: Deadline = Deadline(None);

    /// `after` from now. A duration too large to add to the clock means
    /// never, rather than a panic on overflow.
    pub fn after(after: Duration) -> Self {
        Deadline(Instant::now().checked_add(after))
    }

    /// `after` from now when given, else never.
    pub fn after_opt(after: Option<Duration>) -> Self {
        after.map_or(Deadline::NEVER, Deadline::after)
    }

    pub fn is_set(self) -> bool {
        self.0.is_some()
    }

    /// Completes at the deadline; pending forever without one.
    pub async fn reached(self) {
        match self.0 {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_duration_is_never_not_a_panic() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(!Deadline::after(Duration::MAX).is_set());
            assert!(Deadline::after(Duration::from_millis(1)).is_set());
        });
    }

    #[tokio::test(start_paused = true)]
    async fn reached_waits_for_its_moment() {
        let start = Instant::now();
        Deadline::after(Duration::from_secs(5)).reached().await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}
