//! `--frame N` and `--frame N-M`: which frames of a replay to show (and
//! explain), by their 1-based number in the file.

use std::ops::RangeInclusive;

/// The frames `--frame` picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRange(pub RangeInclusive<u64>);

impl FrameRange {
    pub fn contains(&self, frame: u64) -> bool {
        self.0.contains(&frame)
    }
}

/// Parses `4` or `4-9`; frames count from 1, and a range runs forward.
pub fn parse_frames(text: &str) -> Result<FrameRange, String> {
    let number = |s: &str| -> Result<u64, String> {
        match s.trim().parse::<u64>() {
            Ok(0) => Err("frames count from 1".to_string()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!(
                "'{s}' is not a frame number (N or N-M, as 4 or 4-9)"
            )),
        }
    };
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let n = number(text)?;
            (n, n)
        }
    };
    if last < first {
        return Err(format!(
            "{first}-{last} runs backwards: the first frame comes first"
        ));
    }
    Ok(FrameRange(first..=last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_a_range_and_the_refusals() {
        assert_eq!(parse_frames("4"), Ok(FrameRange(4..=4)));
        assert_eq!(parse_frames("4-9"), Ok(FrameRange(4..=9)));
        assert!(parse_frames("0").unwrap_err().contains("count from 1"));
        assert!(parse_frames("9-4").unwrap_err().contains("backwards"));
        assert!(parse_frames("x")
            .unwrap_err()
            .contains("not a frame number"));
        assert!(parse_frames("4-").is_err());
    }
}
