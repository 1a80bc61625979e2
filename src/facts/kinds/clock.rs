//! The host's clock, in seconds since the epoch, as the gather ran.

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::{number, Section};

const TIME: &str = "time";

pub(crate) struct Clock;

impl Kind for Clock {
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!("m {TIME}; date +%s\n"));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        f.time = number(s, TIME)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
    use super::*;

    /// (section body, seconds); empty means unknown.
    #[test]
    fn clock_from_fixtures() {
        for (text, want) in [("", 0), ("1765000000\n", 1_765_000_000), (" 5 \n", 5)] {
            assert_eq!(read(&Clock, &[(TIME, text)], &[]).unwrap().time, want);
        }
        let err = read(&Clock, &[(TIME, "noon\n")], &[]).unwrap_err();
        assert!(err.contains("`time`"), "{err}");
    }
}
