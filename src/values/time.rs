//! Capture timestamps and their precision: the time every layer reads, and
//! the exact time between two of them.

use std::fmt;

/// How many digits of a second a source keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsPrecision {
    Micro,
    Nano,
}

/// A capture timestamp: seconds since the epoch plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub sec: i64,
    pub nsec: u32,
}

impl From<std::time::SystemTime> for Timestamp {
    /// The wall clock as a capture stamps it (times before 1970 become 0).
    fn from(t: std::time::SystemTime) -> Self {
        let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        }
    }
}

impl Timestamp {
    /// Seconds since `earlier` as a float (negative if `earlier` is later).
    /// Any two timestamps a file can hold: the difference is taken in i128.
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (i128::from(self.sec) - i128::from(earlier.sec)) as f64
            + (self.nsec as f64 - earlier.nsec as f64) / 1e9
    }

    /// Nanoseconds since `earlier` (negative if `earlier` is later), exact
    /// for any two timestamps a file can hold.
    pub fn nanos_since(self, earlier: Timestamp) -> i128 {
        (i128::from(self.sec) - i128::from(earlier.sec)) * 1_000_000_000 + i128::from(self.nsec)
            - i128::from(earlier.nsec)
    }

    /// Decimal text with as many fraction digits as the precision keeps,
    /// as tshark prints `frame.time_epoch`.
    pub fn display(self, precision: TsPrecision) -> impl fmt::Display {
        struct D(Timestamp, TsPrecision);
        impl fmt::Display for D {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.1 {
                    TsPrecision::Micro => write!(f, "{}.{:06}", self.0.sec, self.0.nsec / 1000),
                    TsPrecision::Nano => write!(f, "{}.{:09}", self.0.sec, self.0.nsec),
                }
            }
        }
        D(self, precision)
    }
}

/// The time between two captured frames, in whole nanoseconds: kept as
/// an integer so that a round trip prints exactly the digits the
/// timestamps give (a float of seconds would drift in the last places).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Elapsed(pub i64);

impl Elapsed {
    /// `later - earlier`, saturating at the ends of `i64` (292 years).
    pub fn between(earlier: Timestamp, later: Timestamp) -> Elapsed {
        let ns = later.nanos_since(earlier);
        Elapsed(i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX }))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Milliseconds with three decimals, rounded to the microsecond
    /// (`0.120`), as the timeline's times.
    pub fn millis(self) -> impl fmt::Display {
        struct M(i64);
        impl fmt::Display for M {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let us = (self.0.unsigned_abs() + 500) / 1000;
                let sign = if self.0 < 0 && us > 0 { "-" } else { "" };
                write!(f, "{sign}{}.{:03}", us / 1000, us % 1000)
            }
        }
        M(self.0)
    }
}

/// Seconds with nine decimals (`0.000017483`), as tshark prints a
/// relative time such as `tcp.analysis.ack_rtt`.
impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let ns = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_with_their_precision() {
        let ts = Timestamp {
            sec: 1_700_000_000,
            nsec: 1_234_567,
        };
        assert_eq!(
            ts.display(TsPrecision::Nano).to_string(),
            "1700000000.001234567"
        );
        assert_eq!(
            ts.display(TsPrecision::Micro).to_string(),
            "1700000000.001234"
        );
    }

    #[test]
    fn secs_since_borrows_across_the_second() {
        let a = Timestamp {
            sec: 10,
            nsec: 900_000_000,
        };
        let b = Timestamp {
            sec: 11,
            nsec: 100_000_000,
        };
        assert!((b.secs_since(a) - 0.2).abs() < 1e-9);
    }

    #[test]
    fn secs_since_spans_the_whole_i64_range() {
        let (lo, hi) = (
            Timestamp {
                sec: i64::MIN,
                nsec: 0,
            },
            Timestamp {
                sec: i64::MAX,
                nsec: 999_999_999,
            },
        );
        assert!(hi.secs_since(lo) > 1.8e19);
        assert!(lo.secs_since(hi) < -1.8e19);
    }

    #[test]
    fn elapsed_prints_nine_digits_of_a_second_exactly() {
        let a = Timestamp {
            sec: 1_795_303_998,
            nsec: 457_601_079,
        };
        let b = Timestamp {
            sec: 1_795_303_998,
            nsec: 457_618_562,
        };
        assert_eq!(Elapsed::between(a, b).to_string(), "0.000017483");
        assert_eq!(Elapsed::between(b, a).to_string(), "-0.000017483");
        assert_eq!(Elapsed(2_000_000_001).to_string(), "2.000000001");
        assert_eq!(Elapsed(120_400).millis().to_string(), "0.120");
        assert_eq!(Elapsed(12_500).millis().to_string(), "0.013");
        assert_eq!(Elapsed(-1_500_000).millis().to_string(), "-1.500");
        assert_eq!(Elapsed(-400).millis().to_string(), "0.000");
        let (lo, hi) = (
            Timestamp {
                sec: i64::MIN,
                nsec: 0,
            },
            Timestamp {
                sec: i64::MAX,
                nsec: 0,
            },
        );
        assert_eq!(Elapsed::between(lo, hi), Elapsed(i64::MAX));
        assert_eq!(
            Elapsed::between(hi, lo).to_string(),
            "-9223372036.854775808"
        );
    }
}
