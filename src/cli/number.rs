//! Limits that zero would make meaningless (`--count`, `--max-line`,
//! `--max-connections`): parsed as non-zero types, so a zero is a usage
//! error naming the option before anything runs.

use std::ffi::OsStr;
use std::num::{IntErrorKind, NonZeroU64, NonZeroUsize, ParseIntError};
use std::str::FromStr;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;

/// Parses a non-zero number; a zero says `--NAME must be at least 1`.
#[derive(Debug, Clone, Copy)]
pub struct AtLeastOne<T>(std::marker::PhantomData<fn() -> T>);

/// `--count` and the like: 1 ..= u64::MAX.
pub fn at_least_one_u64() -> AtLeastOne<NonZeroU64> {
    AtLeastOne(std::marker::PhantomData)
}

/// `--max-line`, `--max-connections`: 1 ..= usize::MAX.
pub fn at_least_one_usize() -> AtLeastOne<NonZeroUsize> {
    AtLeastOne(std::marker::PhantomData)
}

impl<T> TypedValueParser for AtLeastOne<T>
where
    T: FromStr<Err = ParseIntError> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        text.parse::<T>().map_err(|e| {
            let message = match (e.kind(), arg.and_then(clap::Arg::get_long)) {
                (IntErrorKind::Zero, Some(long)) => format!("--{long} must be at least 1"),
                (IntErrorKind::Zero, None) => "the value must be at least 1".to_string(),
                _ => {
                    let arg = arg.map(ToString::to_string).unwrap_or_default();
                    format!("invalid value '{text}' for '{arg}': {e}")
                }
            };
            clap::Error::raw(ErrorKind::ValueValidation, format!("{message}\n")).with_cmd(cmd)
        })
    }
}
